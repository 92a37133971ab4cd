import { gzipSync } from 'node:zlib';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCenter, addToken, bearer, http, record, startReceiver, type Receiver } from './receiver-harness.js';

let rx: Receiver;
let keyA: string;
let keyB: string;
let token: string;
const LIMITS = { bodyBytes: 64 * 1024, decompressedBytes: 256 * 1024, recordsPerBatch: 50 };

beforeAll(async () => {
  // Rate limits have their own receiver below; these tests send many requests from one key.
  rx = await startReceiver('rx_ingest', { limits: LIMITS, rateLimits: { perPrincipalPerSecond: 0, perAddressPerSecond: 0, authFailuresPerMinute: 0 } });
  keyA = await addCenter(rx.store, 'A01');
  keyB = await addCenter(rx.store, 'B02');
  token = await addToken(rx.store, 'central');
});
afterAll(async () => {
  await rx?.close();
});

const post = (center: string, key: string | null, records: unknown[]) =>
  http(rx.base, 'POST', `/api/v2/centers/${center}/studies`, { headers: key ? bearer(key) : {}, json: { records } });

async function stored(iuid: string): Promise<RowDataPacket | undefined> {
  const [rows] = await rx.pool.query<RowDataPacket[]>('SELECT * FROM studies WHERE study_iuid = ?', [iuid]);
  return rows[0];
}

describe('v2 batch: authentication and authorisation', () => {
  it('401 without a key, with an unknown key, or a malformed Authorization header', async () => {
    expect((await post('A01', null, [record('1.1', 1)])).status).toBe(401);
    expect((await post('A01', 'not-a-key-at-all-xxxxxxxx', [record('1.1', 1)])).status).toBe(401);
    const r = await http(rx.base, 'POST', '/api/v2/centers/A01/studies', { headers: { authorization: `Basic ${keyA}` }, json: { records: [] } });
    expect(r.status).toBe(401);
    expect(await stored('1.1')).toBeUndefined();
  });

  it('403 when the key belongs to another centre', async () => {
    const r = await post('B02', keyA, [record('1.2', 1)]);
    expect(r.status).toBe(403);
    expect(r.json.error).toBe('forbidden');
    expect(await stored('1.2')).toBeUndefined();
  });

  it('403 for a read token: it cannot write', async () => {
    expect((await post('A01', token, [record('1.3', 1)])).status).toBe(403);
    const legacy = await http(rx.base, 'POST', '/api/v1/register', { headers: { 'x-api-key': token }, json: { center: 'A01', study_iuid: '1.3' } });
    expect(legacy.status).toBe(403);
    expect(await stored('1.3')).toBeUndefined();
  });

  it('403 "centre … is disabled" for a disabled centre, accepted again once enabled', async () => {
    const key = await addCenter(rx.store, 'DIS');
    await rx.store.access.setCenterEnabled('DIS', false);
    const refused = await post('DIS', key, [record('1.4', 1)]);
    expect(refused.status).toBe(403);
    expect(refused.json).toEqual({ error: 'center_disabled', message: 'centre DIS is disabled' });
    await rx.store.access.setCenterEnabled('DIS', true);
    expect((await post('DIS', key, [record('1.4', 1)])).status).toBe(200);
  });
});

describe('v2 batch: shape and limits', () => {
  it('400 for a body that is not JSON, not an object, or without a records array', async () => {
    const raw = (body: string) => http(rx.base, 'POST', '/api/v2/centers/A01/studies', { headers: { ...bearer(keyA), 'content-type': 'application/json' }, body });
    expect((await raw('{not json')).status).toBe(400);
    expect((await raw('[]')).status).toBe(400);
    expect((await raw('{"records": 5}')).status).toBe(400);
    expect((await raw('{"records": {"study_iuid": "x"}}')).status).toBe(400);
    expect((await raw('{}')).status).toBe(400);
    expect((await raw('')).status).toBe(400);
  });

  it('413 for a body over the limit and for too many records', async () => {
    const big = await post('A01', keyA, [record('1.5', 1, { study_description: 'x'.repeat(70 * 1024) })]);
    expect(big.status).toBe(413);
    const many = await post('A01', keyA, Array.from({ length: 51 }, (_, i) => record(`1.6.${i}`, 1)));
    expect(many.status).toBe(413);
    expect(many.json.error).toBe('payload_too_large');
    expect(await stored('1.6.0')).toBeUndefined();
  });

  it('accepts a gzip body', async () => {
    const body = gzipSync(JSON.stringify({ records: [record('1.7', 3)] }));
    const r = await http(rx.base, 'POST', '/api/v2/centers/A01/studies', {
      headers: { ...bearer(keyA), 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body,
    });
    expect(r.status).toBe(200);
    expect(r.json.stored).toBe(1);
    expect(Number((await stored('1.7'))?.source_seq)).toBe(3);
  });

  it('413 for a gzip bomb (small on the wire, huge decompressed), the server stays up', async () => {
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(LIMITS.bodyBytes);
    const r = await http(rx.base, 'POST', '/api/v2/centers/A01/studies', {
      headers: { ...bearer(keyA), 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: bomb,
    });
    expect(r.status).toBe(413);
    expect((await http(rx.base, 'GET', '/healthz')).status).toBe(200);
  });

  it('400 for corrupt gzip, 415 for an unsupported encoding', async () => {
    const headers = { ...bearer(keyA), 'content-type': 'application/json' };
    const corrupt = await http(rx.base, 'POST', '/api/v2/centers/A01/studies', { headers: { ...headers, 'content-encoding': 'gzip' }, body: 'not gzip' });
    expect(corrupt.status).toBe(400);
    const br = await http(rx.base, 'POST', '/api/v2/centers/A01/studies', { headers: { ...headers, 'content-encoding': 'br' }, body: '{}' });
    expect(br.status).toBe(415);
  });
});

describe('v2 batch: idempotent, ordered upserts', () => {
  it('stores good records and rejects bad ones one by one, with index and reason', async () => {
    const r = await post('A01', keyA, [
      record('2.1', 1),
      { study_iuid: '2.2' },
      record('2.3', 1, { study_datetime: '2020-13-01T00:00:00', study_instances: 'many' }),
      'not an object',
      record('2.4', 1, { center: 'B02' }),
      record('2.5', 1, { accession_no: 'A'.repeat(65) }),
    ]);
    expect(r.status).toBe(200);
    expect(r.json.stored).toBe(1);
    expect(r.json.rejected.map((x: { index: number }) => x.index)).toEqual([1, 2, 3, 4, 5]);
    expect(r.json.rejected[0]).toEqual({ index: 1, study_iuid: '2.2', reason: 'source_seq is required (an integer from 0 to 2^53-2^32)' });
    expect(r.json.rejected[1].reason).toMatch(/study_instances/);
    expect(r.json.rejected[3].reason).toMatch(/center/);
    expect(r.json.rejected[4].reason).toMatch(/accession_no/);
    expect(await stored('2.1')).toBeDefined();
    expect(await stored('2.3')).toBeUndefined();
  });

  it('a re-sent batch changes nothing; an older version is stale; a newer one replaces', async () => {
    const batch = [record('3.1', 10, { study_description: 'v10' }), record('3.2', 10)];
    expect((await post('A01', keyA, batch)).json).toEqual({ stored: 2, unchanged: 0, stale: 0, rejected: [], normalised: {} });
    const before = await stored('3.1');
    expect((await post('A01', keyA, batch)).json).toEqual({ stored: 0, unchanged: 2, stale: 0, rejected: [], normalised: {} });
    expect(await stored('3.1')).toEqual(before);
    const older = await post('A01', keyA, [record('3.1', 9, { study_description: 'v9' })]);
    expect(older.json).toEqual({ stored: 0, unchanged: 0, stale: 1, rejected: [], normalised: {} });
    expect((await stored('3.1'))?.study_description).toBe('v10');
    const newer = await post('A01', keyA, [record('3.1', 11, { study_description: 'v11', modalities: ['MR'] })]);
    expect(newer.json.stored).toBe(1);
    expect((await stored('3.1'))?.study_description).toBe('v11');
    const [mods] = await rx.pool.query<RowDataPacket[]>(
      'SELECT m.modality FROM study_modalities m JOIN studies s ON s.id = m.study_id WHERE s.study_iuid = ?', ['3.1']);
    expect(mods.map((m) => m.modality)).toEqual(['MR']);
  });

  it('keeps the highest version when one batch holds the same study twice', async () => {
    const r = await post('A01', keyA, [record('3.5', 2, { study_description: 'two' }), record('3.5', 4, { study_description: 'four' }), record('3.5', 3)]);
    expect(r.json).toMatchObject({ stored: 1, stale: 2 });
    expect((await stored('3.5'))?.study_description).toBe('four');
  });

  it('the same study_iuid at two centres is two studies', async () => {
    await post('A01', keyA, [record('3.9', 1)]);
    await post('B02', keyB, [record('3.9', 1)]);
    const [rows] = await rx.pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM studies WHERE study_iuid = ?', ['3.9']);
    expect(Number(rows[0]!.n)).toBe(2);
  });

  it('concurrent posts of the same studies from several connections converge to the highest source_seq', async () => {
    const iuids = Array.from({ length: 20 }, (_, i) => `4.${i}`);
    const seqs = Array.from({ length: 12 }, (_, i) => i + 1).sort(() => Math.random() - 0.5);
    const results = await Promise.all(
      seqs.map((seq) => post('A01', keyA, iuids.map((iuid) => record(iuid, seq, { study_description: `seq ${seq}`, modalities: [`M${seq}`] })))),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    const total = results.reduce((n, r) => n + r.json.stored + r.json.unchanged + r.json.stale, 0);
    expect(total).toBe(12 * 20);
    const [rows] = await rx.pool.query<RowDataPacket[]>(
      `SELECT s.source_seq, s.study_description, GROUP_CONCAT(m.modality) AS mods FROM studies s
       LEFT JOIN study_modalities m ON m.study_id = s.id WHERE s.study_iuid LIKE '4.%' GROUP BY s.id`);
    expect(rows).toHaveLength(20);
    for (const row of rows) {
      expect(Number(row.source_seq)).toBe(12);
      expect(row.study_description).toBe('seq 12');
      expect(row.mods).toBe('M12');
    }
  });

  it('a tombstone keeps the identity and hides the study; a newer live version revives it', async () => {
    await post('A01', keyA, [record('5.1', 1, { patient_id: 'TOMB-1' })]);
    const t = await post('A01', keyA, [{ study_iuid: '5.1', source_seq: 2, deleted: true }]);
    expect(t.json.stored).toBe(1);
    const row = await stored('5.1');
    expect(row?.deleted).toBe(1);
    const q = await http(rx.base, 'GET', '/api/v2/studies?study_iuid=5.1', { headers: bearer(token) });
    expect(q.json.items).toEqual([]);
    const all = await http(rx.base, 'GET', '/api/v2/studies?study_iuid=5.1&include_deleted=true', { headers: bearer(token) });
    expect(all.json.items).toHaveLength(1);
    expect(all.json.items[0].deleted).toBe(true);
    await post('A01', keyA, [record('5.1', 3)]);
    expect((await stored('5.1'))?.deleted).toBe(0);
  });

  it('keeps the centre last_seen and highest source_seq', async () => {
    await post('B02', keyB, [record('6.1', 500)]);
    await post('B02', keyB, [record('6.2', 400)]);
    const centers = await rx.store.access.listCenters();
    const b = centers.find((c) => c.code === 'B02')!;
    expect(b.last_source_seq).toBe(500);
    expect(b.last_seen).not.toBeNull();
  });
});

describe('record round trip', () => {
  it('returns every contract field as posted (birth date, sex, issuer, numbers, modalities)', async () => {
    const full = {
      center: 'A01', study_iuid: '8.1', study_pk: 9001, patient_pk: 42, patient_id: '12.667.869-k', patient_id_issuer: 'RUT',
      patient_name: 'NÚÑEZ^MARÍA', patient_birthdate: '1970-02-28', patient_sex: 'F', study_datetime: '2021-03-01T08:00:00',
      study_description: 'Tórax lateral', study_modality: 'CT\\SR', modalities: ['CT', 'SR'], study_series: 3, study_instances: 250,
      accession_no: 'ACC-1', study_id: 'S1', referring_physician: 'DR^WHO', source_seq: 77, deleted: false,
    };
    expect((await post('A01', keyA, [{ ...full, unknown_future_field: 1 }])).json.stored).toBe(1);
    const r = await http(rx.base, 'GET', '/api/v2/studies?study_iuid=8.1', { headers: bearer(token) });
    expect(r.json.items).toEqual([full]);
    expect((await stored('8.1'))?.patient_key).toBe('12667869-K');
  });

  it('tolerates messy data: blanks to null, long free text truncated, bad birth date dropped, odd modalities filtered', async () => {
    const r = await post('A01', keyA, [record('8.2', 1, {
      patient_id: '   ', patient_name: `${'N'.repeat(300)}^X`, patient_birthdate: '19700231', study_description: 'é'.repeat(300),
      modalities: ['ct', ' sr ', 'WAY-TOO-LONG-MODALITY', ''], study_series: '4', study_pk: null,
    })]);
    expect(r.json.stored).toBe(1);
    const row = await stored('8.2');
    expect(row).toMatchObject({ patient_id: null, patient_key: null, patient_birthdate: null, study_series: 4, modalities: 'CT\\SR' });
    expect(row?.patient_name).toHaveLength(255);
    expect(row?.study_description).toBe('é'.repeat(255));
  });
});

describe('legacy POST /api/v1/register', () => {
  const legacy = {
    patient_pk: '77', patient_id: '12.345.678-5', patient_name: 'PEREZ^JOSE^PEREZ', study_pk: '2452',
    study_iuid: '9.1', study_datetime: '2015-03-22 00:53:17', study_description: 'TORAX', study_modality: 'CT\\SR',
    study_series: '3', study_instances: '120', center: 'A01',
  };
  const register = (body: unknown, key: string | null = keyA) =>
    http(rx.base, 'POST', '/api/v1/register', { headers: key ? { 'x-api-key': key } : {}, body: JSON.stringify(body) });

  it('accepts the legacy shape (string numbers, space datetime, no content type): 201 Ok', async () => {
    const r = await register(legacy);
    expect(r.status).toBe(201);
    expect(r.json).toEqual({ status: 'Ok' });
    const row = await stored('9.1');
    expect(row).toMatchObject({ study_pk: 2452, patient_pk: 77, study_series: 3, study_instances: 120, study_datetime: '2015-03-22 00:53:17', patient_key: '12345678-5', modalities: 'CT\\SR' });
  });

  it('an unreadable date is stored as null, like the agent maps it, not refused', async () => {
    for (const [iuid, when] of [['9.5', '0000-00-00 00:00:00'], ['9.6', 'yesterday'], ['9.7', '2015-02-29 10:00:00']]) {
      expect((await register({ ...legacy, study_iuid: iuid, study_datetime: when })).status).toBe(201);
      expect(await stored(iuid!)).toMatchObject({ study_datetime: null, study_instances: 120 });
    }
  });

  it('"None" dates are null; re-sends create no duplicate; a later post replaces an earlier one', async () => {
    await register({ ...legacy, study_iuid: '9.2', study_datetime: 'None' });
    await register({ ...legacy, study_iuid: '9.2', study_datetime: 'None' });
    await register({ ...legacy, study_iuid: '9.2', study_datetime: 'None', study_instances: '130' });
    const [rows] = await rx.pool.query<RowDataPacket[]>('SELECT study_datetime, study_instances FROM studies WHERE study_iuid = ?', ['9.2']);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ study_datetime: null, study_instances: 130 });
  });

  it('a v2 record from the agent always wins over legacy versions', async () => {
    await register({ ...legacy, study_iuid: '9.3' });
    await post('A01', keyA, [record('9.3', 0, { study_description: 'agent' })]);
    await register({ ...legacy, study_iuid: '9.3', study_description: 'legacy again' });
    expect((await stored('9.3'))?.study_description).toBe('agent');
  });

  it('401 for a bad key (not the legacy 200), 403 for another centre, 400 for a bad record', async () => {
    expect((await register(legacy, null)).status).toBe(401);
    expect((await register(legacy, 'wrong-key-0123456789')).status).toBe(401);
    expect((await register({ ...legacy, center: 'B02' })).status).toBe(403);
    expect((await register({ ...legacy, center: undefined })).status).toBe(400);
    const bad = await register({ ...legacy, study_iuid: '9.4', study_series: 'many' });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toMatch(/study_series/);
    const notJson = await http(rx.base, 'POST', '/api/v1/register', { headers: { 'x-api-key': keyA }, body: 'center=A01' });
    expect(notJson.status).toBe(400);
  });
});

describe('rate limit', () => {
  it('429 once a key exceeds its burst; other keys are unaffected', async () => {
    const limited = await startReceiver('rx_rate', { rateLimits: { perPrincipalPerSecond: 1 } });
    try {
      const k1 = await addCenter(limited.store, 'R1');
      const k2 = await addCenter(limited.store, 'R2');
      const send = (c: string, k: string) => http(limited.base, 'POST', `/api/v2/centers/${c}/studies`, { headers: bearer(k), json: { records: [] } });
      expect((await send('R1', k1)).status).toBe(200);
      expect((await send('R1', k1)).status).toBe(200);
      const third = await send('R1', k1);
      expect(third.status).toBe(429);
      expect(Number(third.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect((await send('R2', k2)).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
