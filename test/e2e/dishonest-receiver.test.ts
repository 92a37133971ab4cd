import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dcm4cheeWriter } from '../helpers/dcm4chee-writer.js';
import { sendJson } from '../helpers/hostile-server.js';
import type { TestDatabase } from '../helpers/mysql.js';
import { createSite, queueCount, runCli, writeSiteConfig, type CliResult } from '../agent/support/agent-harness.js';

/**
 * The built agent against a receiver that answers 200 without accounting for the records (the
 * counts do not add up) or announces a version floor no agent can allocate above: the pass fails
 * (exit 6), nothing is acknowledged (initial not marked done, the queue rows kept), and a later
 * pass against an honest receiver delivers everything. The receiver URL carries a login
 * throughout: no output of any run prints it.
 */
type Mode = 'short-counts' | 'floor-max' | 'not-found' | 'honest';

describe('a dishonest receiver: the built agent acknowledges nothing it was not told', { timeout: 120_000 }, () => {
  let db: TestDatabase;
  let server: Server;
  let dir: string;
  let mode: Mode = 'honest';
  let posted = 0;
  let received = 0;
  const outputs: CliResult[] = [];

  const behave = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    if (req.url?.endsWith('/source-seq')) {
      return sendJson(res, 200, { center: '001', highest_source_seq: mode === 'floor-max' ? 2 ** 53 - 1 : null });
    }
    // The agent's health report after each pass: not a batch.
    if (req.url?.endsWith('/heartbeat')) return sendJson(res, 200, { status: 'ok' });
    posted += 1;
    if (mode === 'not-found') return sendJson(res, 404, { error: 'not_found', message: 'no such route http://user:secretpw@evil/ \u001b[31mRED\u001b[0m' });
    const records = (JSON.parse(gunzipSync(body).toString()) as { records: unknown[] }).records;
    if (mode === 'short-counts') return sendJson(res, 200, { stored: 0, unchanged: 0, stale: 0, rejected: [], normalised: {} });
    received += records.length;
    return sendJson(res, 200, { stored: records.length, unchanged: 0, stale: 0, rejected: [], normalised: {} });
  };

  const run = async (args: string[], as: Mode): Promise<CliResult> => {
    mode = as;
    const r = await runCli(args, dir);
    outputs.push(r);
    return r;
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => behave(req, res, Buffer.concat(parts)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    db = await createSite('fixture', 'e2e_dishonest');
    const writer = new Dcm4cheeWriter(db.conn);
    for (let i = 0; i < 5; i++) {
      const p = await writer.createPatient({ patId: `1${i}.111.111-1`, name: `PACIENTE^${i}` });
      const s = await writer.storeStudy(p, { datetime: '2024-05-01 09:00:00', desc: 'TC' });
      await writer.addSeries(s, { modality: 'CT', instances: 3 });
    }
    const url = `http://alice:s3cr3t-pw@127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = writeSiteConfig(db, { url, key: 'key-001-0123456789abcdef', http: { retries: 0, min_backoff_ms: 5, max_backoff_ms: 20, timeout_ms: 2000 } }, '001');
  });
  afterAll(async () => {
    await db?.drop();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('initial against counts that do not add up: exit 6 naming the URL; not marked done', async () => {
    const r = await run(['initial'], 'short-counts');
    expect(r.code, r.stderr).toBe(6);
    expect(r.stderr).toMatch(/receiver http:\/\/127\.0\.0\.1:\d+\/api\/v2\/centers\/001\/studies answered 200 to a batch of \d+ records whose counts add up to 0: nothing acknowledged/);
    expect(posted).toBeGreaterThan(0);
    const again = await run(['initial'], 'honest');
    expect(again.code, again.stderr).toBe(0);
    expect(received).toBeGreaterThanOrEqual(5);
  });

  it('sync against counts that do not add up: exit 6, the queue rows kept; an honest sync drains them', async () => {
    const writer = new Dcm4cheeWriter(db.conn);
    const p = await writer.createPatient({ patId: '9.999.999-9', name: 'NUEVO^PACIENTE' });
    await writer.storeStudy(p, { datetime: '2024-06-01 09:00:00', desc: 'RM' });
    const backlog = await queueCount(db.conn);
    expect(backlog).toBeGreaterThan(0);
    const r = await run(['sync'], 'short-counts');
    expect(r.code, r.stderr).toBe(6);
    expect(await queueCount(db.conn)).toBe(backlog);
    expect((await run(['sync'], 'honest')).code).toBe(0);
    expect(await queueCount(db.conn)).toBe(0);
  });

  it('a version floor of 2^53-1: exit 6 before any batch is posted, naming the recovery', async () => {
    const writer = new Dcm4cheeWriter(db.conn);
    const p = await writer.createPatient({ patId: '8.888.888-8', name: 'OTRO^PACIENTE' });
    await writer.storeStudy(p, { datetime: '2024-07-01 09:00:00', desc: 'RX' });
    const backlog = await queueCount(db.conn);
    const before = posted;
    const r = await run(['sync'], 'floor-max');
    expect(r.code, r.stderr).toBe(6);
    expect(r.stderr).toContain('9007199254740991');
    expect(r.stderr).toContain('docs/receiver.md');
    expect(posted).toBe(before);
    expect(await queueCount(db.conn)).toBe(backlog);
  });

  it("a 404 whose message carries a login and terminal escapes: printed masked, as one plain line", async () => {
    const r = await run(['sync'], 'not-found');
    expect(r.code, r.stderr).toBe(6);
    expect(r.stderr).toContain('no such route http://********@evil/ RED');
    expect(r.stdout + r.stderr).not.toContain('secretpw');
    expect(r.stdout + r.stderr).not.toContain('\u001b');
  });

  it('a receiver that is down: exit 6, the URL printed without its login', async () => {
    const closed = writeSiteConfig(db, { url: 'http://alice:s3cr3t-pw@127.0.0.1:9', key: 'key-001-0123456789abcdef', http: { retries: 0, min_backoff_ms: 5, max_backoff_ms: 20, timeout_ms: 2000 } }, '001');
    const r = await runCli(['sync'], closed);
    outputs.push(r);
    expect(r.code, r.stderr).toBe(6);
    expect(r.stderr).toContain('127.0.0.1:9');
  });

  it('no output of any run printed the login embedded in the receiver URL', () => {
    expect(outputs.length).toBeGreaterThanOrEqual(5);
    for (const o of outputs) {
      expect(o.stdout + o.stderr).not.toContain('s3cr3t-pw');
      expect(o.stdout + o.stderr).not.toContain('alice');
    }
  });
});
