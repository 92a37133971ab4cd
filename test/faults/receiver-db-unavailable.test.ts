import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import mysql from 'mysql2/promise';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/receiver/app.js';
import { createPool, type Pool } from '../../src/receiver/store/db.js';
import { createStore, type ReceiverStore } from '../../src/receiver/store/receiver-store.js';
import { createLogger } from '../../src/shared/logger.js';
import { connectionOptions, serverUrl } from '../helpers/mysql.js';
import { addCenter, bearer, http, record, startReceiver, type Receiver } from '../helpers/receiver-harness.js';

/**
 * The central database refuses writes: ingest must answer 503 with Retry-After (the agent keeps
 * its checkpoint and retries), never 200 (nothing may be reported stored) nor 500.
 * A read-only or full database is simulated, self-contained, by a receiver whose database user may
 * read every table but not write `studies` (SET GLOBAL read_only would disturb a shared server).
 */
let rx: Receiver;
let key: string;
const user = `rx_ro_${randomBytes(3).toString('hex')}`;
const password = randomBytes(12).toString('hex');
let admin: mysql.Connection;
const started: { app: FastifyInstance; pool: Pool }[] = [];
const silent = createLogger({ level: 'silent' });

async function serve(store: ReceiverStore, pool: Pool): Promise<string> {
  const app = buildApp({ store, log: silent });
  await app.listen({ host: '127.0.0.1', port: 0 });
  started.push({ app, pool });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  rx = await startReceiver('rx_db_unavail');
  key = await addCenter(rx.store, 'U1');
  admin = await mysql.createConnection(connectionOptions(serverUrl()));
  for (const host of ['%', 'localhost', '127.0.0.1']) {
    await admin.query('CREATE USER ?@? IDENTIFIED BY ?', [user, host, password]);
    await admin.query(`GRANT SELECT ON \`${rx.db.name}\`.* TO ?@?`, [user, host]);
    for (const table of ['centers', 'center_counts', 'study_modalities', 'read_audit']) {
      await admin.query(`GRANT INSERT, UPDATE, DELETE ON \`${rx.db.name}\`.\`${table}\` TO ?@?`, [user, host]);
    }
  }
});

afterAll(async () => {
  for (const s of started) {
    await s.app.close();
    await s.pool.end().catch(() => undefined);
  }
  for (const host of ['%', 'localhost', '127.0.0.1']) await admin?.query('DROP USER IF EXISTS ?@?', [user, host]).catch(() => undefined);
  await admin?.end();
  await rx?.close();
});

async function studyCount(): Promise<number> {
  const [rows] = await rx.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM studies');
  return Number(rows[0]!.n);
}

function expectUnavailable(r: { status: number; headers: Record<string, unknown>; json: { error?: string; message?: string } }): void {
  expect(r.status).toBe(503);
  expect(r.headers['retry-after']).toMatch(/^\d+$/);
  expect(r.json).toEqual({ error: 'unavailable', message: 'the database is unavailable, retry later' });
}

describe('central database refusing writes', () => {
  it('a database user without write access to studies: v2 and legacy ingest answer 503, nothing stored', async () => {
    const u = new URL(rx.db.url);
    u.username = user;
    u.password = password;
    const pool = createPool(u.toString(), 2);
    const base = await serve(createStore(pool), pool);
    const before = await studyCount();
    const r = await http(base, 'POST', '/api/v2/centers/U1/studies', { headers: bearer(key), json: { records: [record('ro.1', 1), record('ro.2', 1)] } });
    expectUnavailable(r);
    const legacy = await http(base, 'POST', '/api/v1/register', { headers: { 'x-api-key': key }, json: { center: 'U1', study_iuid: 'ro.3' } });
    expectUnavailable(legacy);
    expect(await studyCount()).toBe(before);
    const [counts] = await rx.pool.query<RowDataPacket[]>('SELECT COALESCE(SUM(live), 0) AS n FROM center_counts');
    expect(Number(counts[0]!.n)).toBe(0);
    // The same records go through once the database accepts writes again (the agent's retry).
    const retry = await http(rx.base, 'POST', '/api/v2/centers/U1/studies', { headers: bearer(key), json: { records: [record('ro.1', 1), record('ro.2', 1)] } });
    expect(retry.json.stored).toBe(2);
  });

  it('an unreachable database: 503 for ingest and reads, /healthz still 200, /readyz 503', async () => {
    const pool = createPool('mysql://nobody:x@127.0.0.1:1/none', 1);
    const base = await serve(createStore(pool), pool);
    const r = await http(base, 'POST', '/api/v2/centers/U1/studies', { headers: bearer(key), json: { records: [record('x.1', 1)] } });
    expectUnavailable(r);
    expect((await http(base, 'GET', '/healthz')).status).toBe(200);
    expect((await http(base, 'GET', '/readyz')).status).toBe(503);
  });

  it.each([
    ['ER_OPTION_PREVENTS_STATEMENT', 1290], ['ER_RECORD_FILE_FULL', 1114], ['ER_DISK_FULL', 1021],
    ['ER_LOCK_WAIT_TIMEOUT', 1205], ['ER_READ_ONLY_MODE', 1836], ['ER_LOCK_DEADLOCK', 1213],
  ])('%s from the driver is a 503 with Retry-After, never a 500', async (code, errno) => {
    // The driver fails; the store maps it (StoreUnavailableError) and the HTTP layer answers from ERROR_TABLE.
    const fail = async () => {
      throw Object.assign(new Error(`simulated ${code}`), { code, errno, sqlState: 'HY000', sqlMessage: 'table studies: secret detail' });
    };
    const failingPool = { query: fail, execute: fail, getConnection: fail } as unknown as Pool;
    const failing: ReceiverStore = { ...rx.store, upsert: createStore(failingPool).upsert };
    const base = await serve(failing, rx.pool);
    const r = await http(base, 'POST', '/api/v2/centers/U1/studies', { headers: bearer(key), json: { records: [record(`e.${errno}`, 1)] } });
    expectUnavailable(r);
    expect(r.text).not.toContain('secret');
    await started.pop()!.app.close(); // its pool is rx.pool, closed with rx
  });
});
