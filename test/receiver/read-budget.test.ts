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

  it('answers to a read token, data or refusal, are never cached (Cache-Control: no-store)', async () => {
    for (const path of ['/api/v2/patients/P1/studies', '/dicom-web/studies?PatientID=P1', '/fhir/ImagingStudy?patient:identifier=P1', '/api/v2/studies?limit=0']) {
      expect((await http(rx.base, 'GET', path, { headers: bearer(token) })).headers['cache-control'], path).toBe('no-store');
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

describe('malformed query encodings', () => {
  it('are refused after authentication: 401 without a token, 400 with one, and the refusal is audited', async () => {
    const cases = [
      ['/dicom-web/studies?PatientID=%ED%A0%80', 'GET /dicom-web/studies'],
      ['/fhir/ImagingStudy?patient:identifier=%C0%AF', 'GET /fhir/ImagingStudy'],
      ['/api/v2/studies?patient_id=%FF%FE', 'GET /api/v2/studies'],
    ] as const;
    for (const [path, route] of cases) {
      expect((await http(rx.base, 'GET', path)).status, path).toBe(401);
      expect((await http(rx.base, 'GET', path, { headers: bearer(token) })).status, path).toBe(400);
      const [rows] = await rx.pool.query<RowDataPacket[]>('SELECT status FROM read_audit WHERE route = ? ORDER BY id DESC LIMIT 1', [route]);
      expect(Number(rows[0]?.status), route).toBe(400);
    }
  });
});

describe('reads in flight per token (RECEIVER_MAX_CONCURRENT_READS)', () => {
  it('refuses a token its reads past the cap with 429, never another token\'s, and frees the slots when answers are done', async () => {
    const capped = await startReceiver('rx_read_slots', { rateLimits: { concurrentReadsPerToken: 2 } });
    try {
      const greedy = await addToken(capped.store, 'greedy');
      const other = await addToken(capped.store, 'other');
      await seed(capped, 8);
      // Contains-searches over 20,000 rows: each takes long enough that eight sent at once overlap.
      const slow = () => http(capped.base, 'GET', '/api/v2/studies?description=zzzz-nowhere', { headers: bearer(greedy) });
      const answers = await Promise.all(Array.from({ length: 8 }, slow));
      const statuses = answers.map((r) => r.status);
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(2);
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(1);
      expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
      const refused = answers.find((r) => r.status === 429)!;
      expect(refused.json.message).toContain('reads at once for this token');
      expect(refused.headers['retry-after']).toBe('1');
      // Another token is not refused meanwhile, and once the answers are done the slots are free again.
      const [mine, theirs] = await Promise.all([slow(), http(capped.base, 'GET', '/api/v2/patients/P1/studies', { headers: bearer(other) })]);
      expect([mine.status, theirs.status]).toEqual([200, 200]);
      for (let i = 0; i < 3; i += 1) expect((await slow()).status).toBe(200);
    } finally {
      await capped.close();
    }
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
