import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCenter, addToken, bearer, http, record, startReceiver, type Receiver } from './receiver-harness.js';

/**
 * study_series / study_instances are "integer, or null when the source cannot tell" (a C-FIND
 * source answers no counts): the receiver stores and serves that null, never a made-up 0, and
 * tells it apart from a real 0 everywhere it reads the columns. The legacy reads keep answering
 * integers (their clients never saw a null count): unknown is 0 there, as it always was.
 */
const CENTER = 'NC1';
const UNKNOWN = '1.2.826.0.1.3680043.77.1';
const ZERO = '1.2.826.0.1.3680043.77.2';
const KNOWN = '1.2.826.0.1.3680043.77.3';
const NEGATIVE = '1.2.826.0.1.3680043.77.4';
const LEGACY = '1.2.826.0.1.3680043.77.5';

let rx: Receiver;
let key: string;
let token: string;

beforeAll(async () => {
  rx = await startReceiver('rx_null_counts');
  key = await addCenter(rx.store, CENTER);
  token = await addToken(rx.store, 'counts');
  const patient = { patient_id: '12.345.678-5', patient_name: 'CUENTA^NULA' };
  const r = await http(rx.base, 'POST', `/api/v2/centers/${CENTER}/studies`, {
    headers: bearer(key),
    json: {
      records: [
        record(UNKNOWN, 1, { ...patient, study_series: null, study_instances: null }),
        record(ZERO, 1, { ...patient, study_series: 0, study_instances: 0 }),
        record(KNOWN, 1, { ...patient, study_series: 3, study_instances: 120 }),
        record(NEGATIVE, 1, { ...patient, study_series: -1, study_instances: 2 ** 31 }),
      ],
    },
  });
  expect(r.json, r.text).toMatchObject({ stored: 4, rejected: [], normalised: { study_series: 1, study_instances: 1 } });
  const legacy = await http(rx.base, 'POST', '/api/v1/register', {
    headers: { 'x-api-key': key },
    json: { center: CENTER, study_iuid: LEGACY, study_datetime: '2020-01-01 10:00:00', ...patient, study_series: 'None', study_instances: '' },
  });
  expect(legacy.status, legacy.text).toBe(201);
});
afterAll(async () => {
  await rx?.close();
});

const get = (path: string, headers: Record<string, string> = {}) => http(rx.base, 'GET', path, { headers: { ...bearer(token), ...headers } });

async function countsOf(iuid: string): Promise<unknown[]> {
  const [rows] = await rx.pool.query<RowDataPacket[]>('SELECT study_series, study_instances FROM studies WHERE study_iuid = ?', [iuid]);
  return [rows[0]?.study_series, rows[0]?.study_instances];
}

describe('null counts ("the source cannot tell") end to end', () => {
  it('are stored as NULL; a negative or overflowing count too (counted); a real 0 stays 0', async () => {
    expect(await countsOf(UNKNOWN)).toEqual([null, null]);
    expect(await countsOf(ZERO)).toEqual([0, 0]);
    expect(await countsOf(KNOWN)).toEqual([3, 120]);
    expect(await countsOf(NEGATIVE)).toEqual([null, null]);
    expect(await countsOf(LEGACY)).toEqual([null, null]);
  });

  it('/api/v2/studies and /api/v2/patients/{id}/studies serve null, and 0 as 0', async () => {
    const one = async (iuid: string) => (await get(`/api/v2/studies?study_iuid=${iuid}`)).json.items[0];
    expect(await one(UNKNOWN)).toMatchObject({ study_series: null, study_instances: null });
    expect(await one(ZERO)).toMatchObject({ study_series: 0, study_instances: 0 });
    expect(await one(KNOWN)).toMatchObject({ study_series: 3, study_instances: 120 });
    const page = await get('/api/v2/patients/12345678-5/studies');
    expect(page.status).toBe(200);
    const counts = Object.fromEntries(page.json.items.map((i: Record<string, unknown>) => [i.study_iuid, [i.study_series, i.study_instances]]));
    expect(counts).toEqual({ [UNKNOWN]: [null, null], [ZERO]: [0, 0], [KNOWN]: [3, 120], [NEGATIVE]: [null, null], [LEGACY]: [null, null] });
  });

  it('QIDO-RS answers NumberOfStudyRelatedSeries/Instances without a Value when unknown, and 0 when 0', async () => {
    const study = async (iuid: string) => {
      const r = await get(`/dicom-web/studies?StudyInstanceUID=${iuid}&includefield=00201206,00201208`, { accept: 'application/dicom+json' });
      expect(r.status, r.text).toBe(200);
      expect(r.json).toHaveLength(1);
      return r.json[0] as Record<string, { Value?: unknown[] }>;
    };
    // DICOM JSON's empty (zero-length) attribute: present, no Value — unknown, not 0.
    const unknown = await study(UNKNOWN);
    expect([unknown['00201206'], unknown['00201208']]).toEqual([{ vr: 'IS' }, { vr: 'IS' }]);
    const zero = await study(ZERO);
    expect([zero['00201206']?.Value, zero['00201208']?.Value]).toEqual([[0], [0]]);
    const known = await study(KNOWN);
    expect([known['00201206']?.Value, known['00201208']?.Value]).toEqual([[3], [120]]);
  });

  it('FHIR ImagingStudy omits numberOfSeries/numberOfInstances when unknown, and has 0 when 0', async () => {
    const resource = async (iuid: string) => {
      const r = await get(`/fhir/ImagingStudy?identifier=urn:dicom:uid%7Curn:oid:${iuid}`);
      expect(r.status, r.text).toBe(200);
      expect(r.json.entry).toHaveLength(1);
      return r.json.entry[0].resource as Record<string, unknown>;
    };
    const unknown = await resource(UNKNOWN);
    expect('numberOfSeries' in unknown || 'numberOfInstances' in unknown).toBe(false);
    expect(await resource(ZERO)).toMatchObject({ numberOfSeries: 0, numberOfInstances: 0 });
    expect(await resource(KNOWN)).toMatchObject({ numberOfSeries: 3, numberOfInstances: 120 });
    const read = await get(`/fhir/ImagingStudy/${String(unknown.id)}`);
    expect(read.status).toBe(200);
    expect('numberOfSeries' in read.json).toBe(false);
  });

  it('the stats count the studies whatever their counts', async () => {
    const r = await get('/api/v2/stats?group_by=center');
    expect(r.status).toBe(200);
    expect(r.json.items).toEqual([{ key: CENTER, studies: 5 }]);
    const month = await get('/api/v2/stats?group_by=month');
    expect(month.json.items).toEqual([{ key: '2020-01', studies: 5 }]);
  });

  it('the legacy reads keep answering integers: an unknown count is 0 there, as it always was', async () => {
    const r = await http(rx.base, 'GET', '/api/v1/patient_id/12345678-5', { headers: { 'x-api-key': token } });
    expect(r.status, r.text).toBe(200);
    const counts = Object.fromEntries(r.json.map((i: Record<string, unknown>) => [i.study_iuid, [i.study_series, i.study_instances]]));
    expect(counts).toEqual({ [UNKNOWN]: [0, 0], [ZERO]: [0, 0], [KNOWN]: [3, 120], [NEGATIVE]: [0, 0], [LEGACY]: [0, 0] });
  });

  it('/openapi.json: the v2 read and ingest schemas say integer or null; the legacy reads say integer', async () => {
    const doc = (await http(rx.base, 'GET', '/openapi.json')).json;
    const page = doc.paths['/api/v2/studies'].get.responses['200'].content['application/json'].schema;
    const body = doc.paths['/api/v2/centers/{center}/studies'].post.requestBody.content['application/json'].schema;
    const legacy = doc.paths['/api/v1/patient_id/{id}'].get.responses['200'].content['application/json'].schema;
    for (const f of ['study_series', 'study_instances']) {
      expect(page.properties.items.items.properties[f].type, f).toEqual(['integer', 'null']);
      expect(body.properties.records.items.properties[f].type, f).toEqual(['integer', 'null']);
      expect(legacy.items.properties[f].type, f).toBe('integer');
    }
  });
});
