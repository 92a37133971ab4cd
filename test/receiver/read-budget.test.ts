import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCenter, addToken, bearer, http, record, startReceiver, type Receiver } from './receiver-harness.js';

/**
 * Reads every interface shares: HTTP Basic with the token as password (what Orthanc's DICOMweb
 * client and several viewers send), and the search time budget (RECEIVER_QUERY_TIME_LIMIT_MS): a
 * search the database cannot answer in time is refused 413, audited, and the receiver stays up.
 */
let rx: Receiver;
let tight: Receiver;
let token: string;
let tightToken: string;

const basic = (user: string, password: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

async function seed(r: Receiver, batches: number): Promise<void> {
  const key = await addCenter(r.store, 'B1');
  for (let b = 0; b < batches; b += 1) {
    const records = Array.from({ length: 2500 }, (_, i) => record(`7.${b}.${i}`, 1 + i, { patient_id: `P${i}`, study_description: `ESTUDIO ${b} ${i}` }));
    expect((await http(r.base, 'POST', '/api/v2/centers/B1/studies', { headers: bearer(key), json: { records } })).status).toBe(200);
  }
}

beforeAll(async () => {
  rx = await startReceiver('rx_read_basic');
  token = await addToken(rx.store, 'viewer');
  await seed(rx, 4);
  // A budget of 1 ms: a leading-wildcard scan of 10,000 rows cannot finish within it.
  tight = await startReceiver('rx_read_budget', { queryTimeLimitMs: 1 });
  tightToken = await addToken(tight.store, 'viewer');
  await seed(tight, 4);
});
afterAll(async () => {
  await rx?.close();
  await tight?.close();
});

describe('HTTP Basic with the token as password', () => {
  it('is accepted with any user name, like Bearer', async () => {
    for (const user of ['', 'orthanc', 'anyone at all']) {
      const r = await http(rx.base, 'GET', '/api/v2/patients/P1/studies', { headers: basic(user, token) });
      expect(r.status, user).toBe(200);
      expect(r.json.items).toHaveLength(4);
    }
  });

  it('refuses a wrong, empty or malformed credential with 401', async () => {
    const bad = [
      basic('viewer', 'not-the-token-0123456789'),
      basic(token, ''),
      { authorization: `Basic ${Buffer.from(token).toString('base64')}` },
      { authorization: 'Basic !!!not-base64!!!' },
      { authorization: 'Basic' },
      { authorization: `Basic ${'A'.repeat(6000)}` },
    ];
    for (const headers of bad) expect((await http(rx.base, 'GET', '/api/v2/patients/P1/studies', { headers })).status).toBe(401);
  });
});

describe('the search time budget', () => {
  it('refuses a search the database cannot finish in time with 413, naming how to narrow it, and audits it', async () => {
    const r = await http(tight.base, 'GET', '/api/v2/studies?description=zzzz-nowhere', { headers: bearer(tightToken) });
    expect(r.status).toBe(413);
    expect(r.json.error).toBe('query_too_broad');
    expect(r.json.message).toMatch(/narrow it/);
    expect(r.text).not.toContain('zzzz');
    const [audit] = await tight.pool.query<RowDataPacket[]>("SELECT status FROM read_audit WHERE route = 'GET /api/v2/studies' ORDER BY id DESC LIMIT 1");
    expect(Number(audit[0]!.status)).toBe(413);
    // Its connections are fine afterwards (the server stopped the statement, not the session).
    expect((await http(tight.base, 'GET', '/readyz')).status).toBe(200);
    // The same search within the default budget answers.
    expect((await http(rx.base, 'GET', '/api/v2/studies?description=zzzz-nowhere', { headers: bearer(token) })).json.items).toEqual([]);
  });
});
