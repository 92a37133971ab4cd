import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from '../../../src/receiver/store/receiver-store.js';
import { addCenter, addToken, bearer, http, record, startReceiver, type Receiver } from '../receiver-harness.js';
import { auditSince, lastAuditId } from './qido-fixtures.js';

/**
 * A search past the time budget is refused 413 (query too broad), not held open: a contains-match
 * on the whole patient name over a few thousand rows, with a 1 ms budget (RECEIVER_QUERY_TIME_LIMIT_MS).
 */
let rx: Receiver;
let token: string;
const ROWS = 10_000;

beforeAll(async () => {
  rx = await startReceiver('rx_qido_budget', { queryTimeLimitMs: 1 });
  token = await addToken(rx.store, 'central');
  const key = await addCenter(rx.store, 'B1');
  const records = Array.from({ length: ROWS }, (_, i) => record(`1.2.9.${i}`, 1, {
    patient_id: `${1000000 + i}-${i % 10}`,
    patient_name: `APELLIDO${i % 97} SEGUNDO${i % 89}^NOMBRE${i % 83} OTRO${i}`,
    study_datetime: `20${String(10 + (i % 14)).padStart(2, '0')}-0${1 + (i % 9)}-1${i % 10}T10:00:00`,
    study_description: `DESCRIPCION LARGA DEL ESTUDIO NUMERO ${i} ${'X'.repeat(100)}`,
  }));
  for (let at = 0; at < ROWS; at += 5000) {
    const r = await http(rx.base, 'POST', '/api/v2/centers/B1/studies', { headers: bearer(key), json: { records: records.slice(at, at + 5000) } });
    expect(r.json.stored).toBe(5000);
  }
}, 120_000);
afterAll(async () => {
  await rx?.close();
});

describe('time budget', () => {
  it('a contains-query on the whole name past the budget: 413 query_too_broad, audited', async () => {
    const since = await lastAuditId(rx);
    const r = await http(rx.base, 'GET', '/dicom-web/studies?PatientName=*zzzz*&ReferringPhysicianName=*qqqq*&StudyDescription=*yyyy*', { headers: bearer(token) });
    expect(r.status, r.text).toBe(413);
    expect(r.json).toEqual({ error: 'query_too_broad', message: expect.stringContaining('narrow it') });
    expect(r.text).not.toContain('zzzz');
    const rows = await auditSince(rx, since);
    expect(rows.map((x) => [x.route, x.status, x.result_count])).toEqual([['GET /dicom-web/studies', 413, 0]]);
  });

  it('the same search with a generous budget finishes (the refusal was the budget, not an error)', async () => {
    const generous = createStore(rx.pool, { queryTimeLimitMs: 60_000 });
    const page = await generous.match({ patientName: { whole: '%zzzz%' }, referringPhysician: { whole: '%qqqq%' }, description: { like: '%yyyy%' }, includeDeleted: false }, { limit: 10, offset: 0 });
    expect(page.rows).toEqual([]);
  });
});
