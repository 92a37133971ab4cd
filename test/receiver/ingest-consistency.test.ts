import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_SOURCE_SEQ } from '../../src/shared/record-limits.js';
import { addCenter, addToken, bearer, http, record, startReceiver, type Receiver } from './receiver-harness.js';

/**
 * Findings of a security trial with a valid key: legacy `None`, prototype keys, malformed query
 * encoding, numbers and dates treated differently by field, non-UTF-8 bodies, absurd versions.
 */
let rx: Receiver;
let key: string;
let token: string;

beforeAll(async () => {
  rx = await startReceiver('rx_consistency');
  key = await addCenter(rx.store, 'C01');
  token = await addToken(rx.store, 'reader');
});
afterAll(async () => {
  await rx?.close();
});

const post = (records: unknown[]) => http(rx.base, 'POST', '/api/v2/centers/C01/studies', { headers: bearer(key), json: { records } });
const postRaw = (body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  http(rx.base, 'POST', '/api/v2/centers/C01/studies', { headers: { ...bearer(key), ...headers }, body });
const legacy = (body: Record<string, unknown>) => http(rx.base, 'POST', '/api/v1/register', { headers: { 'x-api-key': key }, json: body });

async function stored(iuid: string): Promise<RowDataPacket | undefined> {
  const [rows] = await rx.pool.query<RowDataPacket[]>('SELECT * FROM studies WHERE study_iuid = ?', [iuid]);
  return rows[0];
}

describe('prototype keys in a record', () => {
  it('__proto__ / constructor.prototype keys are dropped: the batch is stored (not a 400), no prototype polluted', async () => {
    const body = '{"records":[{"study_iuid":"6.1","source_seq":1,"__proto__":{"polluted":1},"patient_name":"UNO^A"},'
      + '{"study_iuid":"6.2","source_seq":1,"constructor":{"prototype":{"polluted":2}}},'
      + '{"study_iuid":"6.3","source_seq":1,"study_description":"x","__proto__":null}]}';
    const r = await postRaw(body);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ stored: 3, rejected: [] });
    expect((await stored('6.1'))?.patient_name).toBe('UNO^A');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('legacy "None" (Python str(None)) is null on the legacy route', () => {
  const fields = ['patient_id', 'patient_id_issuer', 'patient_name', 'patient_sex', 'study_description', 'study_modality',
    'accession_no', 'study_id', 'referring_physician', 'patient_birthdate', 'study_datetime', 'study_series', 'study_instances', 'patient_pk', 'study_pk'];

  it('every field "None": 201, stored as nulls (no patient key NONE, counts unknown: null)', async () => {
    const rec: Record<string, unknown> = { center: 'C01', study_iuid: '5.1' };
    for (const f of fields) rec[f] = 'None';
    const r = await legacy(rec);
    expect(r.status, r.text).toBe(201);
    const row = await stored('5.1');
    expect(row).toMatchObject({
      patient_id: null, patient_key: null, patient_name: null, name_key: null, accession_no: null, study_id: null,
      referring_physician: null, study_description: null, study_modality: null, patient_pk: null, study_pk: null, study_series: null, study_instances: null,
    });
  });

  it('two legacy studies of unrelated patients with "None" ids are not linked', async () => {
    await legacy({ center: 'C01', study_iuid: '5.2', patient_id: 'None', patient_name: 'DOS^B' });
    const r = await http(rx.base, 'GET', '/api/v2/studies?patient_id=NONE', { headers: bearer(token) });
    expect(r.status).toBe(200);
    expect(r.json.items).toEqual([]);
  });

  it('on v2 "None" stays literal text (the agent sends real nulls)', async () => {
    const r = await post([record('5.3', 1, { patient_name: 'None' })]);
    expect(r.json.stored).toBe(1);
    expect((await stored('5.3'))?.patient_name).toBe('None');
  });
});

describe('malformed percent-encoding in the query string', () => {
  it.each(['patient_id=%E0%A4%A', 'patient_id=%FF%FE', 'name=%'])('%s → 400 naming the parameter (not 200 empty)', async (q) => {
    const r = await http(rx.base, 'GET', `/api/v2/studies?${q}`, { headers: bearer(token) });
    expect(r.status).toBe(400);
    expect(r.json.message).toContain(`"${q.split('=')[0]}"`);
    expect(r.json.message).toMatch(/percent-encoding/);
    expect(r.text).not.toMatch(/%E0|%FF/);
  });

  it('a well-formed encoding still works', async () => {
    expect((await http(rx.base, 'GET', '/api/v2/studies?name=P%C3%89REZ', { headers: bearer(token) })).status).toBe(200);
  });
});

describe('content types', () => {
  const body = JSON.stringify({ records: [record('7.1', 1)] });
  it.each([
    ['text/plain', 415], ['application/x-www-form-urlencoded', 415], ['application/json; charset=iso-8859-1', 415], ['application/json; charset=latin1', 415],
    ['application/json; charset=utf-8', 200], ['application/json; charset="UTF-8"', 200], ['application/json', 200],
  ])('Content-Type %s → %i', async (type, status) => {
    const r = await postRaw(body, { 'content-type': type });
    expect(r.status).toBe(status);
    if (status === 415) expect(r.json.error).toBe('unsupported_media_type');
  });

  it('no Content-Type at all (legacy clients): parsed as JSON', async () => {
    const r = await http(rx.base, 'POST', '/api/v1/register', { headers: { 'x-api-key': key }, body: JSON.stringify({ center: 'C01', study_iuid: '7.2' }) });
    expect(r.status).toBe(201);
  });
});

describe('numbers and dates, alike for every field', () => {
  it('integers may be their digits on v2 too, source_seq included', async () => {
    const r = await post([record('8.1', 1, { source_seq: '5', study_pk: '77', study_series: '3' })]);
    expect(r.json).toMatchObject({ stored: 1, rejected: [] });
    expect(await stored('8.1')).toMatchObject({ source_seq: 5, study_pk: 77, study_series: 3 });
  });

  it('dates given as numbers read alike: YYYYMMDD for the birth date and for study_datetime', async () => {
    const r = await post([record('8.2', 1, { patient_birthdate: 19800101, study_datetime: 20230101 }), record('8.3', 1, { study_datetime: '20230102101112' })]);
    expect(r.json).toMatchObject({ stored: 2, rejected: [], normalised: {} });
    const [[d]] = await rx.pool.query<RowDataPacket[]>("SELECT DATE_FORMAT(patient_birthdate, '%Y-%m-%d') AS b, DATE_FORMAT(study_datetime, '%Y-%m-%d %H:%i:%s') AS s FROM studies WHERE study_iuid = '8.2'");
    expect(d).toEqual({ b: '1980-01-01', s: '2023-01-01 00:00:00' });
    const [[e]] = await rx.pool.query<RowDataPacket[]>("SELECT DATE_FORMAT(study_datetime, '%Y-%m-%d %H:%i:%s') AS s FROM studies WHERE study_iuid = '8.3'");
    expect(e!.s).toBe('2023-01-02 10:11:12');
  });

  it('a legacy center given as a number is its text (1.5 is another centre: 403, not "must be a string")', async () => {
    const r = await legacy({ center: 1.5, study_iuid: '8.4' });
    expect(r.status).toBe(403);
    expect(r.json.message).not.toMatch(/must be a string/);
  });
});

describe('versions above the documented maximum (2^53 - 2^32)', () => {
  it('source_seq at the maximum is stored; above it (up to 2^53-1) rejected alone, the centre floor unmoved', async () => {
    const r = await post([record('9.1', MAX_SOURCE_SEQ), record('9.2', MAX_SOURCE_SEQ + 1), record('9.3', Number.MAX_SAFE_INTEGER)]);
    expect(r.json.stored).toBe(1);
    expect(r.json.rejected.map((x: { index: number; reason: string }) => [x.index, x.reason])).toEqual([
      [1, expect.stringMatching(/source_seq .*2\^53-2\^32/)], [2, expect.stringMatching(/source_seq/)],
    ]);
    const floor = await http(rx.base, 'GET', '/api/v2/centers/C01/source-seq', { headers: bearer(key) });
    expect(floor.json.highest_source_seq).toBe(MAX_SOURCE_SEQ);
  });
});
