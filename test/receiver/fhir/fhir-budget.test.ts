import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCenter, addToken, bearer, http, record, startReceiver, type Receiver } from '../../helpers/receiver-harness.js';
import { FHIR_CT } from './fhir-fixtures.js';
import { expectValidFhir } from './fhir-validator.js';

/**
 * The search time budget (RECEIVER_QUERY_TIME_LIMIT_MS) through FHIR: 1 ms over 10,000 studies,
 * and searches that must read them all (an OR of modalities every study matches, a count) — refused 413
 * too-costly as an OperationOutcome, audited, and the receiver keeps answering.
 */
let tight: Receiver;
/** Four per study: an OR of them makes the database read and de-duplicate 40,000 modality rows. */
const MODALITIES = ['CT', 'KO', 'PR', 'SR'];
let token: string;

beforeAll(async () => {
  tight = await startReceiver('rx_fhir_budget', { queryTimeLimitMs: 1 });
  token = await addToken(tight.store, 'ehr');
  const key = await addCenter(tight.store, 'B1');
  for (let b = 0; b < 4; b += 1) {
    const records = Array.from({ length: 2500 }, (_, i) => record(`7.${b}.${i}`, 1 + i, { patient_id: `P${i}`, modalities: MODALITIES, study_modality: MODALITIES.join('\\') }));
    expect((await http(tight.base, 'POST', '/api/v2/centers/B1/studies', { headers: bearer(key), json: { records } })).status).toBe(200);
  }
});
afterAll(async () => {
  await tight?.close();
});

const search = (query: string) => http(tight.base, 'GET', `/fhir/ImagingStudy?${query}`, { headers: bearer(token) });

function expectTooCostly(r: Awaited<ReturnType<typeof search>>, query: string): void {
  expect(r.status, query).toBe(413);
  expect(r.headers['content-type']).toBe(FHIR_CT);
  expectValidFhir(r.json);
  expect(r.json.issue[0].code).toBe('too-costly');
  expect(r.json.issue[0].diagnostics).toMatch(/narrow/);
}

describe('a search the database cannot finish within its budget', () => {
  // Counting the studies with any of several modalities reads every study and its modality rows.
  it.each(['modality=CT,XA&_summary=count', 'modality=SR,PR,XA&started=ge1900&_summary=count'])('%s: 413 too-costly, audited', async (query) => {
    expectTooCostly(await search(query), query);
    const [audit] = await tight.pool.query<RowDataPacket[]>("SELECT status FROM read_audit WHERE route = 'GET /fhir/ImagingStudy' ORDER BY id DESC LIMIT 1");
    expect(Number(audit[0]!.status)).toBe(413);
    expect((await http(tight.base, 'GET', '/readyz')).status).toBe(200);
  });

  // A page, or a plain count over one index, may or may not be done within 1 ms (the optimizer may
  // stop at the first rows; a warm index counts fast): either way the answer is well formed — a
  // Bundle whose total is left out when it could not be counted, or 413 too-costly — never a 5xx,
  // and never an empty page while 10,000 studies match. (MariaDB can end a statement it stopped
  // with a complete, empty result set and the error after it, which the driver reads as success:
  // the store must not answer that as "nothing matches".)
  it.each(['modality=CT,XA', '_count=1000', 'started=ge1900&_count=3', '_summary=count', 'started=ge1900&_summary=count'])('%s: a Bundle without an uncountable total, or 413', async (query) => {
    for (let i = 0; i < 3; i += 1) {
      const r = await search(query);
      if (r.status === 413) {
        expectTooCostly(r, query);
        continue;
      }
      expect(r.status, r.text.slice(0, 300)).toBe(200);
      expectValidFhir(r.json);
      expect([undefined, 10_000], r.text.slice(0, 300)).toContain(r.json.total);
      if (!query.includes('_summary=count')) expect(r.json.entry?.length, r.text.slice(0, 300)).toBeGreaterThan(0);
    }
  });
});
