import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/free-port.js';
import { withDatabase } from '../../scripts/lib/mysql-url.js';
import { createTestDatabase, serverUrl, type TestDatabase } from '../helpers/mysql.js';
import { receiverCommand } from './live-receiver.js';
import { addCenter, addToken, bearer, http, startReceiver, type Receiver } from './receiver-harness.js';

const PATIENT = '12345678-5';

function metric(text: string, name: string): number {
  const m = new RegExp(`^${name.replace(/[{}"=]/g, (c) => `\\${c}`)} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

async function audit429(rx: Receiver): Promise<RowDataPacket[]> {
  const [rows] = await rx.pool.query<RowDataPacket[]>('SELECT token_name, route, parameters, status FROM read_audit WHERE status = 429 ORDER BY id');
  return rows;
}

describe('rate limits', () => {
  it('bad keys from one address: refused 429 before the key lookup once past the failure limit; audited without parameters', async () => {
    const rx = await startReceiver('rx_limit_failures', { rateLimits: { authFailuresPerMinute: 5 } });
    try {
      const statuses: number[] = [];
      let retryAfter: unknown;
      for (let i = 0; i < 40; i++) {
        const r = await http(rx.base, 'GET', `/api/v2/studies?patient_id=${PATIENT}`, { headers: bearer(`wrong-token-${i}-0123456789abcdef`) });
        statuses.push(r.status);
        if (r.status === 429) retryAfter = r.headers['retry-after'];
      }
      expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(6);
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(34);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
      // The database saw a handful of lookups, not one per request.
      const metrics = (await http(rx.base, 'GET', '/metrics')).text;
      expect(metric(metrics, 'receiver_auth_lookups_total')).toBeLessThanOrEqual(6);
      expect(metric(metrics, 'receiver_rate_limited_total{limit="auth_failures"}')).toBeGreaterThanOrEqual(34);
      // Audited, once per client and minute (not one row per refusal), with no parameter values.
      await new Promise((r) => setTimeout(r, 200));
      const rows = await audit429(rx);
      expect(rows.length).toBe(1);
      expect(rows[0]).toMatchObject({ token_name: 'address:127.0.0.1', route: 'GET /api/v2/studies', status: 429 });
      expect(String(rows[0]!.parameters)).not.toContain(PATIENT);
      expect(JSON.parse(String(rows[0]!.parameters))).toEqual({ rate_limit: 'auth_failures', refused_since_last_entry: 0 });
      // Probes keep answering for that address.
      expect((await http(rx.base, 'GET', '/healthz')).status).toBe(200);
    } finally {
      await rx.close();
    }
  });

  it('per client address, before authentication: 429 + Retry-After past the limit, probes unaffected', async () => {
    const rx = await startReceiver('rx_limit_address', { rateLimits: { perAddressPerSecond: 5 } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 30; i++) statuses.push((await http(rx.base, 'GET', '/api/v2/centers', { headers: bearer('no-such-token-0123456789') })).status);
      expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
      expect(statuses.slice(12)).toEqual(Array(18).fill(429));
      expect((await http(rx.base, 'GET', '/healthz')).status).toBe(200);
      expect((await audit429(rx))[0]).toMatchObject({ token_name: 'address:127.0.0.1', status: 429 });
    } finally {
      await rx.close();
    }
  });

  it('per key or token after authentication: 429 audited (token and centre), with no parameter values', async () => {
    const rx = await startReceiver('rx_limit_principal', { rateLimits: { perPrincipalPerSecond: 2 } });
    try {
      const token = await addToken(rx.store, 'busy-reader');
      const other = await addToken(rx.store, 'calm-reader');
      const key = await addCenter(rx.store, 'PL');
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await http(rx.base, 'GET', `/api/v2/studies?patient_id=${PATIENT}`, { headers: bearer(token) })).status);
      expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
      expect((await http(rx.base, 'GET', '/api/v2/centers', { headers: bearer(other) })).status).toBe(200);
      const writes: number[] = [];
      for (let i = 0; i < 5; i++) writes.push((await http(rx.base, 'POST', '/api/v2/centers/PL/studies', { headers: bearer(key), json: { records: [] } })).status);
      expect(writes).toEqual([200, 200, 200, 200, 429]);
      await new Promise((r) => setTimeout(r, 200));
      const rows = await audit429(rx);
      expect(rows.map((r) => [r.token_name, r.route])).toEqual([['busy-reader', 'GET /api/v2/studies'], ['center:PL', 'POST /api/v2/centers/:center/studies']]);
      for (const r of rows) expect(String(r.parameters)).not.toContain(PATIENT);
      const metrics = (await http(rx.base, 'GET', '/metrics')).text;
      expect(metric(metrics, 'receiver_rate_limited_total{limit="principal"}')).toBe(3);
    } finally {
      await rx.close();
    }
  });

  it('on by default', async () => {
    const { DEFAULT_RATE_LIMITS } = await import('../../src/receiver/config.js');
    expect(Object.values(DEFAULT_RATE_LIMITS).every((v) => v > 0)).toBe(true);
  });
});

describe('receiver start-up messages', () => {
  let db: TestDatabase;
  let user: string;
  beforeAll(async () => {
    db = await createTestDatabase('rx_limit_msgs', 'utf8mb4');
    user = `rx_pw_${randomBytes(3).toString('hex')}`;
    await db.conn.query(`CREATE USER '${user}'@'%' IDENTIFIED BY 'right-password'`);
    await db.conn.query(`GRANT ALL ON \`${db.name}\`.* TO '${user}'@'%'`);
    expect(receiverCommand(['migrate'], { RECEIVER_DATABASE_URL: db.url }).code).toBe(0);
  });
  afterAll(async () => {
    await db?.conn.query(`DROP USER IF EXISTS '${user}'@'%'`).catch(() => undefined);
    await db?.drop();
  });

  it('a wrong database password: "access denied" naming the user, not "unreachable", never the password', () => {
    const u = new URL(withDatabase(serverUrl(), db.name));
    u.username = user;
    u.password = 'wrong-password';
    const r = receiverCommand(['migrate'], { RECEIVER_DATABASE_URL: u.toString() });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`access denied for user ${user}`);
    expect(r.stderr).not.toContain('unreachable');
    expect(r.stderr).not.toContain('wrong-password');
    u.password = 'right-password';
    expect(receiverCommand(['centers', 'list'], { RECEIVER_DATABASE_URL: u.toString() }).code).toBe(0);
  });

  it('a port already in use: the message names the address and EADDRINUSE (exit 2)', async () => {
    const port = await freePort();
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
    try {
      const r = receiverCommand(['serve'], { RECEIVER_DATABASE_URL: db.url, RECEIVER_HOST: '127.0.0.1', RECEIVER_PORT: String(port) });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`127.0.0.1:${port}`);
      expect(r.stderr).toContain('EADDRINUSE');
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it('a listen host that does not resolve: exit 2 naming RECEIVER_HOST and ENOTFOUND, no stack', () => {
    const r = receiverCommand(['serve'], { RECEIVER_DATABASE_URL: db.url, RECEIVER_HOST: 'not_a_host.invalid', RECEIVER_PORT: '0' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('RECEIVER_HOST');
    expect(r.stderr).toContain('not_a_host.invalid');
    expect(r.stderr).toContain('ENOTFOUND');
    expect(r.stderr).not.toContain('unexpected failure');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a database URL with an unencoded # says to percent-encode, without echoing the password', () => {
    const u = new URL(db.url);
    const raw = `mysql://${user}:ab#cd@${u.host}${u.pathname}`;
    const r = receiverCommand(['migrate'], { RECEIVER_DATABASE_URL: raw });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('RECEIVER_DATABASE_URL');
    expect(r.stderr).toMatch(/percent-encode.*# → %23/);
    expect(r.stderr).not.toContain('ab#cd');
  });
});
