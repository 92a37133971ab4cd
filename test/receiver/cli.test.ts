import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { RowDataPacket } from 'mysql2/promise';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receiverSchema } from '../../src/receiver/config-schema.js';
import { hashSecret } from '../../src/receiver/http/auth.js';
import { leavesOf } from '../../src/shared/config-checks.js';
import { AccessStore } from '../../src/receiver/store/access-store.js';
import { createPool, type Pool } from '../../src/receiver/store/db.js';
import { createTestDatabase, type TestDatabase } from '../helpers/mysql.js';

const MAIN = 'dist/src/receiver/main.js';
let db: TestDatabase;
let pool: Pool;
let access: AccessStore;

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [MAIN, ...args], {
    env: { PATH: process.env.PATH ?? '', RECEIVER_DATABASE_URL: db.url, RECEIVER_LOG_LEVEL: 'warn', ...env },
    encoding: 'utf8',
  });
  const lines = r.stdout.trimEnd().split('\n');
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, last: lines.at(-1) ?? '' };
}

beforeAll(async () => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npx tsc -p tsconfig.json\` first`);
  db = await createTestDatabase('rx_cli', 'utf8mb4');
  pool = createPool(db.url, 2);
  access = new AccessStore(pool);
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

describe('indexer-receiver CLI', () => {
  it('refuses bad configuration and commands with exit 2', () => {
    expect(cli(['migrate'], { RECEIVER_DATABASE_URL: '' })).toMatchObject({ code: 2, stderr: expect.stringContaining('RECEIVER_DATABASE_URL') });
    expect(cli(['serve'], { RECEIVER_PORT: 'eighty' })).toMatchObject({ code: 2, stderr: expect.stringContaining('RECEIVER_PORT="eighty"') });
    expect(cli(['frobnicate']).code).toBe(2);
    expect(cli(['centers', 'add']).code).toBe(2);
    expect(cli(['--help'])).toMatchObject({ code: 0, stdout: expect.stringContaining('centers add CODE') });
  });

  it("refuses another command's option, naming it and the command (exit 2), before touching anything", () => {
    const cases: [string[], string][] = [
      [['migrate', '--since', '2025-01-01'], 'migrate does not accept --since'],
      [['centers', 'list', '--key', 'x'], 'centers list does not accept --key'],
      [['centers', 'disable', 'H01', '--name', 'X'], 'centers disable does not accept --name'],
      [['tokens', 'add', 'team2', '--key', 'given-key-0123456789abcdef'], 'tokens add does not accept --key'],
      [['audit', '--token', 'x'], 'audit does not accept --token'],
      [['serve', '--bogus'], 'serve does not accept --bogus'],
    ];
    for (const [args, message] of cases) {
      const r = cli(args, { RECEIVER_DATABASE_URL: 'mysql://root@127.0.0.1:1/none' });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toContain(message);
      expect(r.stderr, args.join(' ')).toContain('indexer-receiver help');
    }
  });

  it('help per command, general help and --version', () => {
    const help = cli(['help', 'centers', 'add']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: indexer-receiver centers add CODE [--name N] [--key K]');
    expect(help.stdout).not.toContain('--since');
    expect(cli(['centers', 'add', '--help']).stdout).toBe(help.stdout);
    expect(cli(['help', 'tokens', 'list'])).toMatchObject({ code: 0, stdout: expect.stringContaining('never the token') });
    expect(cli(['help', 'nope']).code).toBe(2);
    expect(cli(['--help']).stdout).toContain('tokens list');
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(cli(['--version'])).toMatchObject({ code: 0, stdout: `indexer-receiver ${pkg.version}\n` });
  });

  it('help serve lists every variable serve reads, from the configuration schema, with default and doc', () => {
    const help = cli(['help', 'serve']);
    expect(help.code).toBe(0);
    expect(cli(['serve', '--help']).stdout).toBe(help.stdout);
    for (const [, leaf] of leavesOf(receiverSchema)) {
      expect(help.stdout, leaf.env).toContain(`${leaf.env!} (`);
      expect(help.stdout, leaf.env).toContain(leaf.doc);
    }
    expect(help.stdout).toContain('RECEIVER_DATABASE_URL (required)');
    expect(help.stdout).toContain('RECEIVER_PORT (default: 8080)');
    expect(help.stdout).toContain('RECEIVER_TLS_CERT (default: none)');
  });

  it('exit 3 when the database is unreachable', () => {
    const r = cli(['migrate'], { RECEIVER_DATABASE_URL: 'mysql://root@127.0.0.1:1/none' });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('unreachable');
  });

  it('serve refuses an unmigrated database (exit 3)', () => {
    const r = cli(['serve'], { RECEIVER_PORT: '0' });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('migrate');
  });

  it('migrate creates the schema and is idempotent', () => {
    expect(cli(['migrate'])).toMatchObject({ code: 0, stdout: 'schema upgraded from version 0 to 7\n' });
    expect(cli(['migrate'])).toMatchObject({ code: 0, stdout: 'schema already at version 7\n' });
  });

  it('centers add prints a generated key last, stored only as a hash', async () => {
    const r = cli(['centers', 'add', 'H01', '--name', 'Hospital Uno']);
    expect(r.code).toBe(0);
    expect(r.last).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await access.findPrincipal(hashSecret(r.last))).toMatchObject({ kind: 'center', name: 'H01', active: true });
    const [rows] = await pool.query<RowDataPacket[]>('SELECT name, key_hash FROM centers WHERE code = ?', ['H01']);
    expect(rows[0]!.name).toBe('Hospital Uno');
    expect(Buffer.from(rows[0]!.key_hash).toString('utf8')).not.toContain(r.last);
    expect(cli(['centers', 'add', 'H01']).code).toBe(2);
    expect(cli(['centers', 'add', 'bad code!']).code).toBe(2);
    expect(cli(['centers', 'add', 'H02', '--key', 'short']).code).toBe(2);
  });

  it('centers add --key, rotate-key, disable, enable', async () => {
    const given = 'given-key-0123456789abcdef';
    expect(cli(['centers', 'add', 'H03', '--key', given]).last).toBe(given);
    const rotated = cli(['centers', 'rotate-key', 'H03']);
    expect(rotated.code).toBe(0);
    expect(await access.findPrincipal(hashSecret(given))).toBeNull();
    expect(await access.findPrincipal(hashSecret(rotated.last))).toMatchObject({ name: 'H03' });
    expect(cli(['centers', 'disable', 'H03']).code).toBe(0);
    expect(await access.findPrincipal(hashSecret(rotated.last))).toMatchObject({ active: false });
    expect(cli(['centers', 'enable', 'H03']).code).toBe(0);
    expect(await access.findPrincipal(hashSecret(rotated.last))).toMatchObject({ active: true });
    expect(cli(['centers', 'disable', 'NOPE']).code).toBe(2);
    const list = cli(['centers', 'list']).stdout.trim().split('\n').map((l) => JSON.parse(l).code);
    expect(list).toEqual(['H01', 'H03']);
  });

  it('centers list shows which centres are enabled, never a key or hash', async () => {
    expect(cli(['centers', 'disable', 'H03']).code).toBe(0);
    const out = cli(['centers', 'list']);
    const rows = out.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((r) => [r.code, r.enabled])).toEqual([['H01', true], ['H03', false]]);
    expect(rows[0]).toMatchObject({ name: 'Hospital Uno', studies: 0 });
    const [keys] = await pool.query<RowDataPacket[]>('SELECT key_hash FROM centers');
    for (const k of keys) {
      expect(out.stdout).not.toContain(Buffer.from(k.key_hash as Buffer).toString('hex'));
      expect(out.stdout).not.toContain(Buffer.from(k.key_hash as Buffer).toString('base64'));
    }
    expect(Object.keys(rows[0]!).some((k) => /key$|hash/.test(k))).toBe(false);
    expect(cli(['centers', 'enable', 'H03']).code).toBe(0);
  });

  it('centers set registers where a centre is retrieved from, validates each value naming its option, and clears with an empty value', async () => {
    const set = cli(['centers', 'set', 'H01', '--dicomweb-url', 'https://pacs.h01.example/dicom-web/', '--retrieve-aet', ' H01PACS ', '--name', 'Hospital Uno Sur']);
    expect(set.code).toBe(0);
    expect(JSON.parse(set.last.replace(/^centre H01 updated: /, ''))).toEqual({ name: 'Hospital Uno Sur', dicomweb_url: 'https://pacs.h01.example/dicom-web', retrieve_aet: 'H01PACS' });
    const listed = cli(['centers', 'list']).stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(listed[0]).toMatchObject({ code: 'H01', dicomweb_url: 'https://pacs.h01.example/dicom-web', retrieve_aet: 'H01PACS' });
    const refusals: [string[], string][] = [
      [['--dicomweb-url', 'ftp://pacs.example/dicom-web'], '--dicomweb-url'],
      [['--dicomweb-url', 'https://user:pw@pacs.example/dicom-web'], '--dicomweb-url'],
      [['--dicomweb-url', 'https://pacs.example/dicom-web?x=1'], '--dicomweb-url'],
      [['--dicomweb-url', 'not a url'], '--dicomweb-url'],
      [['--retrieve-aet', 'SEVENTEEN_CHARS_X'], '--retrieve-aet'],
      [['--retrieve-aet', 'BAD\\AET'], '--retrieve-aet'],
      [['--name', 'x'.repeat(256)], '--name'],
      [['--retrieve-aet', 'A', '--retrieve-aet', 'B'], '--retrieve-aet is given more than once'],
      [[], 'nothing to change'],
    ];
    for (const [args, named] of refusals) {
      const r = cli(['centers', 'set', 'H01', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(named);
    }
    // A refused URL is never quoted: it may carry a password.
    expect(cli(['centers', 'set', 'H01', '--dicomweb-url', 'https://user:s3cret-pw@pacs.example/dicom-web']).stderr).not.toContain('s3cret-pw');
    expect(cli(['centers', 'set', 'NOPE', '--retrieve-aet', 'X']).code).toBe(2);
    expect(cli(['centers', 'set', 'H01', '--dicomweb-url', '', '--retrieve-aet', '']).code).toBe(0);
    expect((await access.centerDirectory()).find((c) => c.code === 'H01')).toEqual({ code: 'H01', name: 'Hospital Uno Sur', dicomwebUrl: null, retrieveAet: null });
  });

  it('tokens add prints the token last; revoke; a name is unique while active', async () => {
    const t = cli(['tokens', 'add', 'team', '--token', 'team-token-0123456789abcdef']);
    expect(t).toMatchObject({ code: 0, last: 'team-token-0123456789abcdef' });
    expect(cli(['tokens', 'add', 'team']).code).toBe(2);
    expect(await access.findPrincipal(hashSecret(t.last))).toMatchObject({ kind: 'token', name: 'team', active: true });
    expect(cli(['tokens', 'revoke', 'team']).code).toBe(0);
    expect(await access.findPrincipal(hashSecret(t.last))).toMatchObject({ active: false });
    expect(cli(['tokens', 'revoke', 'team']).code).toBe(2);
    const again = cli(['tokens', 'add', 'team']);
    expect(again.code).toBe(0);
    expect(await access.findPrincipal(hashSecret(again.last))).toMatchObject({ active: true });
  });

  it('tokens list shows names and state, never a token or its hash', async () => {
    const secret = 'other-token-0123456789abcdef';
    expect(cli(['tokens', 'add', 'other', '--token', secret]).code).toBe(0);
    expect(cli(['tokens', 'revoke', 'other']).code).toBe(0);
    const out = cli(['tokens', 'list']);
    expect(out.code).toBe(0);
    const rows = out.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((r) => [r.name, r.active])).toEqual([['other', false], ['team', true]]);
    expect(rows[0]!.revoked_at).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(rows[1]).toMatchObject({ revoked_at: null });
    expect(out.stdout).not.toContain(secret);
    expect(out.stdout).not.toContain(hashSecret(secret).toString('hex'));
    expect(Object.keys(rows[0]!).sort()).toEqual(['active', 'created_at', 'name', 'revoked_at']);
  });

  it('a reader that stops early (| head) ends the command quietly with exit 0, not a stack trace', async () => {
    for (let i = 0; i < 2000; i += 1) await access.writeAudit({ token_name: 'pipe', route: 'GET /x', parameters: null, result_count: 0, status: 200 });
    // pipefail: the pipeline's status is the receiver's when it fails.
    const r = spawnSync('bash', ['--norc', '--noprofile', '-c', `set -o pipefail; "${process.execPath}" ${MAIN} audit | head -n 1`], {
      env: { PATH: process.env.PATH ?? '', RECEIVER_DATABASE_URL: db.url }, encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(1);
    await pool.query("DELETE FROM read_audit WHERE token_name = 'pipe'");
  });

  it('audit lists entries since a date, as JSON lines', async () => {
    await pool.query(
      `INSERT INTO read_audit (at, token_name, route, parameters, result_count, status) VALUES
       ('2024-01-01 00:00:00', 'team', 'GET /api/v2/studies', '{}', 3, 200),
       ('2025-06-01 12:00:00', 'team', 'GET /api/v2/centers', '{}', 2, 200)`,
    );
    const all = cli(['audit']);
    expect(all.stdout.trim().split('\n')).toHaveLength(2);
    const since = cli(['audit', '--since', '2025-01-01']);
    expect(since.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      { at: '2025-06-01T12:00:00.000Z', token_name: 'team', route: 'GET /api/v2/centers', parameters: '{}', result_count: 2, status: 200 },
    ]);
    expect(cli(['audit', '--since', 'last tuesday']).code).toBe(2);
  });

  it('serve answers, then stops cleanly on SIGTERM (exit 0)', async () => {
    const child = spawn(process.execPath, [MAIN, 'serve'], {
      env: { PATH: process.env.PATH ?? '', RECEIVER_DATABASE_URL: db.url, RECEIVER_PORT: '0', RECEIVER_LOG_LEVEL: 'info' },
    });
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
        if (m) resolve(m[1]!);
      });
      child.on('exit', () => reject(new Error(`serve exited early: ${stderr}`)));
    });
    const res = await request(`${url}/readyz`);
    expect(res.statusCode).toBe(200);
    await res.body.text();
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toContain('"msg":"stopped"');
  });
});
