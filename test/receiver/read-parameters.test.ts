import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCenter, addToken, bearer, http, record, startReceiver, type Receiver } from './receiver-harness.js';

/**
 * Every read parameter, wrongly given: a clear 400 that names the parameter and quotes no value
 * (values and URLs may hold patient ids or names), never a silent drop of the filter, a 200 with
 * wrong results, a 404 or a 5xx.
 */
let rx: Receiver;
let token: string;
const PATIENT = '12345678-5';

beforeAll(async () => {
  rx = await startReceiver('rx_read_params');
  token = await addToken(rx.store, 'reader');
  const key = await addCenter(rx.store, 'P1');
  const records = [
    record('rp.1', 1, { patient_id: PATIENT, patient_name: 'PEREZ^ANA', study_datetime: '2023-02-28T10:00:00' }),
    record('rp.2', 1, { patient_id: '9999999-3', patient_name: 'SOTO^LUIS', study_datetime: '2023-03-01T10:00:00' }),
  ];
  const r = await http(rx.base, 'POST', '/api/v2/centers/P1/studies', { headers: bearer(key), json: { records } });
  expect(r.json.stored).toBe(2);
});
afterAll(async () => {
  await rx?.close();
});

const long = 'X'.repeat(300);
const badCursor = Buffer.from(JSON.stringify(['2023-99-99 99:99:99', 1])).toString('base64url');

/** [path, the parameter the message must name, a submitted value it must not contain]. */
const CASES: [string, string, string | null][] = [
  ['/api/v2/studies?from=2023-13-45', 'from', '2023-13-45'],
  ['/api/v2/studies?to=2023-02-30', 'to', '2023-02-30'],
  ['/api/v2/studies?from=2023-3-1', 'from', '2023-3-1'],
  ['/api/v2/studies?from=2023-03-02&to=2023-03-01', 'from', '2023-03-02'],
  ['/api/v2/studies?name=%20', 'name', null],
  ['/api/v2/studies?name=%5E%5E', 'name', null],
  ['/api/v2/studies?patient_id=%20', 'patient_id', null],
  [`/api/v2/studies?patient_id=${long}`, 'patient_id', long],
  [`/api/v2/studies?patient_id=${PATIENT}&patient_id=1-9`, 'patient_id', PATIENT],
  ['/api/v2/studies?modality=%20', 'modality', null],
  ['/api/v2/studies?modality=%C3%91M', 'modality', 'ÑM'],
  ['/api/v2/studies?center=%20', 'center', null],
  ['/api/v2/studies?center=P1&center=P2', 'center', null],
  ['/api/v2/studies?description=%20%20', 'description', null],
  ['/api/v2/studies?accession_no=%20', 'accession_no', null],
  ['/api/v2/studies?study_iuid=%C3%BC.1', 'study_iuid', 'ü.1'],
  ['/api/v2/studies?include_deleted=maybe', 'include_deleted', 'maybe'],
  ['/api/v2/studies?limit=abc', 'limit', 'abc'],
  ['/api/v2/studies?limit=0', 'limit', null],
  ['/api/v2/studies?limit=-1', 'limit', null],
  ['/api/v2/studies?limit=1.5', 'limit', '1.5'],
  ['/api/v2/studies?limit=100000000000000000000', 'limit', '100000000000000000000'],
  ['/api/v2/studies?limit=5&limit=6', 'limit', null],
  // an integer parameter is ASCII digits: type coercion alone would read these as numbers
  ...['0x10', '1e2', '+5', '%2B5', '%205', '5%20', '5.0', '%C2%A05', '%095', '5%0A', '0b1', ''].map((v): [string, string, string | null] => [`/api/v2/studies?limit=${v}`, 'limit', null]),
  [`/api/v2/patients/${PATIENT}/studies?limit=0x10`, 'limit', PATIENT],
  // a NUL can never match (ingest drops NULs): 400 naming the parameter, not 200 with nothing found
  [`/api/v2/studies?patient_id=${PATIENT}%00`, 'patient_id', PATIENT],
  ['/api/v2/studies?name=PEREZ%00', 'name', 'PEREZ'],
  ['/api/v2/studies?description=TORAX%00', 'description', 'TORAX'],
  ['/api/v2/studies?accession_no=%00A1', 'accession_no', null],
  [`/api/v2/patients/${PATIENT}%00/studies`, 'patient_id', PATIENT],
  [`/api/v1/patient_id/${PATIENT}%00`, 'id', PATIENT],
  ['/api/v1/patient_name/PEREZ%00', 'text', 'PEREZ'],
  ['/api/v2/studies?cursor=garbage!!', 'cursor', 'garbage'],
  [`/api/v2/studies?cursor=${badCursor}`, 'cursor', badCursor],
  ['/api/v2/studies?patiend_id=x', 'patiend_id', null],
  [`/api/v2/studies?${PATIENT}=1`, 'unknown query parameter', PATIENT],
  ['/api/v2/studies?PEREZ=1', 'unknown query parameter', 'PEREZ'],
  ['/api/v2/studies?patient_id%5B%5D=1', 'unknown query parameter', null],
  ['/api/v2/patients/%20/studies', 'patient_id', null],
  [`/api/v2/patients/${long}/studies`, 'patient_id', long],
  [`/api/v2/patients/${PATIENT}/studies?limit=0`, 'limit', PATIENT],
  [`/api/v2/patients/${PATIENT}/studies?name=PEREZ`, 'name', PATIENT],
  [`/api/v2/patients/${PATIENT}%E0%A4%A/studies`, 'URL', PATIENT],
  ['/api/v2/stats?group_by=patient', 'group_by', 'patient'],
  ['/api/v2/stats', 'group_by', null],
  ['/api/v2/stats?group_by=center&group_by=month', 'group_by', null],
  ['/api/v2/centers?verbose=1', 'verbose', null],
  ['/api/v1/patient_id/%20', 'id', null],
  ['/api/v1/patient_name/%5E', 'text', null],
  ['/api/v1/description/%20', 'text', null],
];

describe('read parameters', () => {
  it.each(CASES)('%s → 400 naming %s, quoting no value', async (path, name, value) => {
    const headers = path.startsWith('/api/v1') ? { 'x-api-key': token } : bearer(token);
    const r = await http(rx.base, 'GET', path, { headers });
    expect(r.status).toBe(400);
    expect(r.json.error).toBe('bad_request');
    expect(r.json.message).toContain(name);
    if (value !== null) expect(r.text).not.toContain(value);
    expect(r.text).not.toContain(PATIENT);
  });

  it('the same parameters, rightly given, still answer (the refusals above are not blanket ones)', async () => {
    const ok = async (path: string) => {
      const r = await http(rx.base, 'GET', path, { headers: bearer(token) });
      expect(r.status, path).toBe(200);
      return r.json;
    };
    expect((await ok('/api/v2/studies?from=2023-02-28&to=2023-02-28')).items.map((s: { study_iuid: string }) => s.study_iuid)).toEqual(['rp.1']);
    expect((await ok('/api/v2/studies?to=2024-02-29')).items).toHaveLength(2);
    expect((await ok('/api/v2/studies?name=perez')).items.map((s: { study_iuid: string }) => s.study_iuid)).toEqual(['rp.1']);
    expect((await ok(`/api/v2/patients/${PATIENT}/studies?limit=5`)).items).toHaveLength(1);
    expect((await ok('/api/v2/studies?limit=1')).next_cursor).toEqual(expect.any(String));
    // Leading zeros are digits: 05 is 5.
    expect((await ok('/api/v2/studies?limit=01')).items).toHaveLength(1);
  });

  it('a well-formed cursor made by hand is not signed: it merely positions the keyset, as docs/receiver.md says', async () => {
    const handMade = Buffer.from(JSON.stringify(['2023-03-01 00:00:00', 1])).toString('base64url');
    const r = await http(rx.base, 'GET', `/api/v2/studies?cursor=${handMade}`, { headers: bearer(token) });
    expect(r.status).toBe(200);
    expect(r.json.items.map((s: { study_iuid: string }) => s.study_iuid)).toEqual(['rp.1']);
    const doc = readFileSync('docs/receiver.md', 'utf8');
    expect(doc).not.toContain('a cursor the receiver did not issue');
    expect(doc).toContain('merely positions');
  });

  it('an unknown route answers 404 before the body is parsed or a key looked up', async () => {
    const r = await http(rx.base, 'POST', '/api/v2/centres/P1/studies', {
      headers: { 'content-encoding': 'gzip', 'content-type': 'application/json' },
      body: Buffer.from('not gzip, not json'),
    });
    expect(r.status).toBe(404);
    expect(r.json).toEqual({ error: 'not_found', message: 'no such route' });
  });
});
