import { spawn, spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/lib/free-port.js';
import { createPool, type Pool } from '../../../src/receiver/store/db.js';
import { DicomClientStore } from '../../../src/receiver/store/dicom-client-store.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/mysql.js';
import { echoscu, findscu } from './dimse-harness.js';

/**
 * The built CLI: `dicom-clients add|list|remove` (the AE-title registry), `indexer-receiver dicom`
 * (the DICOM service alone) and `serve` with RECEIVER_DICOM_ENABLED, their configuration errors.
 */
const MAIN = 'dist/src/receiver/main.js';
let db: TestDatabase;
let pool: Pool;

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [MAIN, ...args], {
    env: { PATH: process.env.PATH ?? '', RECEIVER_DATABASE_URL: db.url, RECEIVER_LOG_LEVEL: 'warn', ...env }, encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
  db = await createTestDatabase('rx_dimse_cli', 'utf8mb4');
  pool = createPool(db.url, 2);
  expect(cli(['migrate']).code).toBe(0);
  expect(cli(['tokens', 'add', 'central']).code).toBe(0);
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

describe('dicom-clients', () => {
  it('add, list, remove; refusals name the problem (exit 2)', async () => {
    expect(cli(['dicom-clients', 'add', 'WS1', '--token', 'central'])).toMatchObject({ code: 0, stdout: 'DICOM client WS1 added, acting as read token central\n' });
    expect(cli(['dicom-clients', 'add', ' HOROS_1 ', '--token', 'central', '--host', '::ffff:192.0.2.7']).code).toBe(0);
    expect(cli(['dicom-clients', 'add', 'V6_WS', '--token', 'central', '--host', '0:0:0:0:0:0:0:1']).code).toBe(0);
    const list = cli(['dicom-clients', 'list']).stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    // Addresses as a socket reports the peer: IPv4-mapped IPv6 is IPv4, IPv6 compressed.
    expect(list.map((c) => [c.aet, c.token_name, c.token_active, c.host])).toEqual([
      ['HOROS_1', 'central', true, '192.0.2.7'], ['V6_WS', 'central', true, '::1'], ['WS1', 'central', true, null],
    ]);
    expect(cli(['dicom-clients', 'remove', 'V6_WS']).code).toBe(0);
    expect(Object.keys(list[0]!).some((k) => /hash|secret/.test(k))).toBe(false);
    const refusals: [string[], RegExp][] = [
      [['dicom-clients', 'add', 'WS1', '--token', 'central'], /AE title WS1 is already listed/],
      [['dicom-clients', 'add', 'WS2', '--token', 'nobody'], /no active read token named nobody/],
      [['dicom-clients', 'add', 'WS2'], /needs --token NAME/],
      [['dicom-clients', 'add', 'A_TITLE_TOO_LONG_', '--token', 'central'], /AE title "A_TITLE_TOO_LONG_" is invalid/],
      [['dicom-clients', 'add', 'BACK\\SLASH', '--token', 'central'], /is invalid: expected 1-16 printable ASCII/],
      [['dicom-clients', 'add', 'WS3', '--token', 'central', '--host', 'pacs.example.org'], /--host "pacs.example.org" is invalid: expected an IPv4 or IPv6 address/],
      [['dicom-clients', 'remove', 'NOPE'], /no DICOM client with AE title NOPE/],
      [['dicom-clients', 'list', '--token', 'x'], /dicom-clients list does not accept --token/],
      [['dicom-clients', 'frob'], /unknown command: dicom-clients frob/],
    ];
    for (const [args, message] of refusals) {
      const r = cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
    expect(cli(['dicom-clients', 'remove', 'HOROS_1']).code).toBe(0);
    expect((await new DicomClientStore(pool).list()).map((c) => c.aet)).toEqual(['WS1']);
  });

  it('help lists the commands and their options; help dicom the variables', () => {
    expect(cli(['--help']).stdout).toMatch(/dicom-clients add AET \[--token NAME\] \[--host IP\]/);
    expect(cli(['help', 'dicom-clients', 'add']).stdout).toContain('the read token it acts as (required)');
    const help = cli(['help', 'dicom']).stdout;
    for (const v of ['RECEIVER_DICOM_PORT (default: 11112)', 'RECEIVER_DICOM_AET (default: PACS_INDEX)', 'RECEIVER_DICOM_TLS_CA (default: none)']) expect(help).toContain(v);
  });
});

/** Starts the CLI and waits for the DICOM service to listen; its stderr so far. */
function start(args: string[], env: Record<string, string>): Promise<{ child: ReturnType<typeof spawn>; log: () => string }> {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { PATH: process.env.PATH ?? '', RECEIVER_DATABASE_URL: db.url, RECEIVER_LOG_LEVEL: 'info', ...env } });
  let stderr = '';
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('"msg":"DICOM service listening"')) resolve({ child, log: () => stderr });
    });
    child.on('exit', () => reject(new Error(`exited early: ${stderr}`)));
  });
}

async function stop(child: ReturnType<typeof spawn>): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}

describe('serving DICOM', () => {
  it('`indexer-receiver dicom` answers C-ECHO and C-FIND on its own port and AE title, then stops on SIGTERM (exit 0)', async () => {
    const port = await freePort();
    const { child, log } = await start(['dicom'], { RECEIVER_DICOM_PORT: String(port), RECEIVER_DICOM_AET: 'CLI_INDEX' });
    expect((await echoscu(port, 'WS1', 'CLI_INDEX')).code).toBe(0);
    const r = await findscu({ port, called: 'CLI_INDEX', keys: ['QueryRetrieveLevel=STUDY', 'PatientID=1-9'] });
    expect(r.status).toBe('0000');
    expect(await stop(child)).toBe(0);
    expect(log()).toContain('"msg":"stopped"');
    // No patient value reaches a log line.
    expect(log()).not.toContain('1-9');
  });

  it('`serve` with RECEIVER_DICOM_ENABLED runs both; a DICOM port in use stops it (exit 2) naming the variable', async () => {
    const port = await freePort();
    const { child } = await start(['serve'], { RECEIVER_PORT: '0', RECEIVER_DICOM_ENABLED: 'true', RECEIVER_DICOM_PORT: String(port) });
    expect((await echoscu(port, 'WS1', 'PACS_INDEX')).code).toBe(0);
    expect(await stop(child)).toBe(0);

    const holder = createServer().listen(port, '127.0.0.1');
    await new Promise((r) => holder.once('listening', r));
    try {
      const r = cli(['dicom'], { RECEIVER_DICOM_PORT: String(port) });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/cannot listen on 127\.0\.0\.1:\d+ \(DICOM\): the address is already in use \(EADDRINUSE\).*RECEIVER_DICOM_PORT/);
    } finally {
      holder.close();
    }
  });

  it('configuration errors stop it before it listens (exit 2), naming the variable', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ RECEIVER_DICOM_AET: 'MUCH_TOO_LONG_AE_TITLE' }, /RECEIVER_DICOM_AET="MUCH_TOO_LONG_AE_TITLE" is invalid: expected an AE title/],
      [{ RECEIVER_DICOM_PORT: '70000' }, /RECEIVER_DICOM_PORT="70000" is invalid/],
      [{ RECEIVER_DICOM_MAX_RESULTS: '0' }, /RECEIVER_DICOM_MAX_RESULTS="0" is invalid/],
      [{ RECEIVER_DICOM_TLS_CERT: '/nonexistent.pem' }, /RECEIVER_DICOM_TLS_KEY="" is invalid/],
      [{ RECEIVER_DICOM_TLS_CERT: '/nonexistent.pem', RECEIVER_DICOM_TLS_KEY: '/nonexistent.key' }, /RECEIVER_DICOM_TLS_CERT="\/nonexistent.pem" is invalid: expected a readable PEM file/],
      [{ RECEIVER_DICOM_TLS_REQUIRE_CLIENT_CERT: 'true' }, /need RECEIVER_DICOM_TLS_CERT and RECEIVER_DICOM_TLS_KEY/],
      [{ RECEIVER_DICOM_ENABLED: 'maybe' }, /RECEIVER_DICOM_ENABLED="maybe" is invalid: expected true or false/],
    ];
    for (const [env, message] of cases) {
      const r = cli(['dicom'], env);
      expect(r.code, JSON.stringify(env)).toBe(2);
      expect(r.stderr, JSON.stringify(env)).toMatch(message);
    }
    // Files that are there but not PEM: OpenSSL's reason, naming the variables.
    const notPem = join(tmpdir(), `rx-dimse-not-pem-${process.pid}.pem`);
    writeFileSync(notPem, 'not a certificate');
    try {
      const r = cli(['dicom'], { RECEIVER_DICOM_TLS_CERT: notPem, RECEIVER_DICOM_TLS_KEY: notPem });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/RECEIVER_DICOM_TLS_CERT, RECEIVER_DICOM_TLS_KEY or RECEIVER_DICOM_TLS_CA is not usable: .*PEM/);
    } finally {
      rmSync(notPem, { force: true });
    }
    // The administrative commands do not read the DICOM TLS files.
    expect(cli(['dicom-clients', 'list'], { RECEIVER_DICOM_TLS_CERT: '/nonexistent.pem', RECEIVER_DICOM_TLS_KEY: '/nonexistent.key' }).code).toBe(0);
  });
});
