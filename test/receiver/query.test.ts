import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { familyNameKey, foldText, patientKey } from '../../src/shared/patient-key.js';
import { addCenter, addToken, bearer, http, startReceiver, type Receiver } from './receiver-harness.js';

interface Fixture {
  center: string;
  study_iuid: string;
  patient_id: string | null;
  patient_name: string | null;
  study_datetime: string | null;
  study_description: string | null;
  modalities: string[];
  accession_no: string | null;
  deleted: boolean;
}

const PATIENT_IDS = ['12.345.678-5', '12345678-5', '123456785', '12.667.869-k', '3705779-7', ' abc-1 ', null];
const NAMES = ['PÉREZ GONZÁLEZ^JOSÉ', 'perez^ana', 'PERALTA^LUIS', 'NÚÑEZ^MARÍA', 'O_BRIEN^X', 'OXBRIEN^Z', null];
const DESCRIPTIONS = ['TORAX AP', 'Tórax lateral', 'CEREBRO', '50% DOSIS', 'DOSIS 500', null];
const MODALITIES = [['CT'], ['CT', 'SR'], ['MR'], ['CR'], []];
const DATES = ['2021-03-01T08:00:00', '2021-03-01T08:00:00', '2021-02-28T23:59:59', '2021-03-02T00:00:00', null, '2019-12-31T12:00:00', '2020-06-15T10:30:00'];

function fixtures(): Fixture[] {
  return Array.from({ length: 60 }, (_, i) => ({
    center: i % 3 === 0 ? 'C2' : 'C1',
    study_iuid: `1.2.840.${i}`,
    patient_id: PATIENT_IDS[i % PATIENT_IDS.length]!,
    patient_name: NAMES[(i * 3) % NAMES.length]!,
    study_datetime: DATES[(i * 5) % DATES.length]!,
    study_description: DESCRIPTIONS[i % DESCRIPTIONS.length]!,
    modalities: MODALITIES[(i * 7) % MODALITIES.length]!,
    accession_no: i % 4 === 0 ? `ACC${i % 8}` : null,
    deleted: i % 11 === 5,
  }));
}

let rx: Receiver;
let token: string;
let centerKey: string;
const data = fixtures();
const ids = new Map<string, number>();

beforeAll(async () => {
  rx = await startReceiver('rx_query');
  token = await addToken(rx.store, 'central');
  for (const code of ['C1', 'C2']) {
    const key = await addCenter(rx.store, code);
    if (code === 'C1') centerKey = key;
    const records = data.filter((f) => f.center === code).map((f) => ({
      ...f, study_modality: f.modalities.join('\\'), source_seq: 1, study_series: 1, study_instances: 2,
    }));
    const r = await http(rx.base, 'POST', `/api/v2/centers/${code}/studies`, { headers: bearer(key), json: { records } });
    expect(r.json.stored).toBe(records.length);
  }
  const [rows] = await rx.pool.query<RowDataPacket[]>('SELECT s.id, s.study_iuid, c.code FROM studies s JOIN centers c ON c.id = s.center_id');
  for (const r of rows) ids.set(`${r.code}/${r.study_iuid}`, Number(r.id));
});
afterAll(async () => {
  await rx?.close();
});

type Query = Record<string, string>;

/** The reference implementation the API must agree with: filter, then newest first, undated last, id desc. */
function expected(q: Query): string[] {
  const fold = (s: string) => foldText(s);
  return data
    .filter((f) => q.include_deleted === 'true' || !f.deleted)
    .filter((f) => q.patient_id === undefined || (f.patient_id !== null && patientKey(f.patient_id) === patientKey(q.patient_id)))
    .filter((f) => q.center === undefined || f.center === q.center)
    .filter((f) => q.modality === undefined || f.modalities.includes(q.modality.toUpperCase()))
    .filter((f) => q.from === undefined || (f.study_datetime !== null && f.study_datetime.slice(0, 10) >= q.from))
    .filter((f) => q.to === undefined || (f.study_datetime !== null && f.study_datetime.slice(0, 10) <= q.to))
    .filter((f) => q.accession_no === undefined || f.accession_no === q.accession_no)
    .filter((f) => q.study_iuid === undefined || f.study_iuid === q.study_iuid)
    .filter((f) => q.name === undefined || (familyNameKey(f.patient_name) ?? '').startsWith(fold(q.name)))
    .filter((f) => q.description === undefined || (f.study_description !== null && fold(f.study_description).includes(fold(q.description))))
    .map((f) => ({ key: `${f.center}/${f.study_iuid}`, sort: f.study_datetime ?? '1000-01-01T00:00:00', id: ids.get(`${f.center}/${f.study_iuid}`)! }))
    .sort((a, b) => (a.sort === b.sort ? b.id - a.id : a.sort < b.sort ? 1 : -1))
    .map((x) => x.key);
}

async function fetchAll(q: Query, limit: number): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 100; pages += 1) {
    const params = new URLSearchParams({ ...q, limit: String(limit), ...(cursor ? { cursor } : {}) });
    const r = await http(rx.base, 'GET', `/api/v2/studies?${params}`, { headers: bearer(token) });
    expect(r.status).toBe(200);
    expect(r.json.items.length).toBeLessThanOrEqual(limit);
    out.push(...r.json.items.map((i: { center: string; study_iuid: string }) => `${i.center}/${i.study_iuid}`));
    cursor = r.json.next_cursor;
    if (!cursor) return out;
  }
  throw new Error('paging did not end');
}

const QUERIES: Query[] = [
  {},
  { include_deleted: 'true' },
  { patient_id: '12.345.678-5' },
  { patient_id: '123456785' },
  { patient_id: '12667869-K' },
  { patient_id: 'ABC-1' },
  { patient_id: '99999999-9' },
  { center: 'C2' },
  { modality: 'CT' },
  { modality: 'sr' },
  { from: '2021-03-01' },
  { to: '2021-02-28' },
  { from: '2021-02-28', to: '2021-03-01' },
  { accession_no: 'ACC0' },
  { study_iuid: '1.2.840.7' },
  { name: 'perez' },
  { name: 'PÉR' },
  { name: 'nunez' },
  { name: 'O_' },
  { description: 'torax' },
  { description: '50%' },
  { center: 'C1', modality: 'CT', from: '2020-01-01', name: 'per' },
  { patient_id: '12345678-5', center: 'C1', include_deleted: 'true' },
];

describe('GET /api/v2/studies', () => {
  it.each(QUERIES.map((q) => [JSON.stringify(q), q] as const))('%s returns exactly the expected set, in order', async (_label, q) => {
    const want = expected(q);
    const single = await fetchAll(q, 1000);
    expect(single).toEqual(want);
    expect(await fetchAll(q, 3)).toEqual(want);
  });

  it('the fixture exercises what it should (ties, undated, tombstones, empty results)', () => {
    expect(expected({}).length).toBeGreaterThan(30);
    expect(data.some((f) => f.deleted)).toBe(true);
    expect(expected({ name: 'O_' })).not.toEqual(expected({ name: 'O' }));
    expect(expected({ description: '50%' }).length).toBeGreaterThan(0);
    expect(expected({ description: '50%' })).not.toEqual(expected({ description: '50' }));
    expect(expected({ patient_id: '99999999-9' })).toEqual([]);
  });

  it('limit defaults to 50 and is capped at 1000', async () => {
    const r = await http(rx.base, 'GET', '/api/v2/studies?include_deleted=true', { headers: bearer(token) });
    expect(r.json.items).toHaveLength(50);
    expect(r.json.next_cursor).toEqual(expect.any(String));
    expect((await http(rx.base, 'GET', '/api/v2/studies?limit=1001', { headers: bearer(token) })).status).toBe(400);
    expect((await http(rx.base, 'GET', '/api/v2/studies?limit=0', { headers: bearer(token) })).status).toBe(400);
  });

  it('400 for a bad cursor, bad dates, from after to, an unknown parameter', async () => {
    for (const q of ['cursor=garbage', `cursor=${Buffer.from('["x",1]').toString('base64url')}`, 'from=2021-3-1', 'from=2021-03-02&to=2021-03-01', 'patient=1', 'include_deleted=maybe',
      `study_iuid=${encodeURIComponent('1.2\u00f1')}`, `center=${encodeURIComponent('C\u{1F600}')}`, `modality=${encodeURIComponent('CT\u202e')}`]) {
      const r = await http(rx.base, 'GET', `/api/v2/studies?${q}`, { headers: bearer(token) });
      expect(r.status, q).toBe(400);
      expect(r.json.error).toBe('bad_request');
    }
  });

  it('401 without a token, 403 for a centre key', async () => {
    expect((await http(rx.base, 'GET', '/api/v2/studies')).status).toBe(401);
    expect((await http(rx.base, 'GET', '/api/v2/studies', { headers: bearer('nope-nope-nope-nope') })).status).toBe(401);
    const r = await http(rx.base, 'GET', '/api/v2/studies', { headers: bearer(centerKey) });
    expect(r.status).toBe(403);
    expect((await http(rx.base, 'GET', '/api/v1/patient_id/123456785', { headers: { 'x-api-key': centerKey } })).status).toBe(403);
  });

  it('a revoked token is refused', async () => {
    const t = await addToken(rx.store, 'temp');
    expect((await http(rx.base, 'GET', '/api/v2/centers', { headers: bearer(t) })).status).toBe(200);
    await rx.store.access.revokeToken('temp');
    expect((await http(rx.base, 'GET', '/api/v2/centers', { headers: bearer(t) })).status).toBe(401);
  });
});

describe('other read endpoints', () => {
  it('GET /api/v2/patients/{id}/studies matches across RUT forms and centres', async () => {
    const r = await http(rx.base, 'GET', `/api/v2/patients/${encodeURIComponent('12.345.678-5')}/studies`, { headers: bearer(token) });
    expect(r.status).toBe(200);
    const got = r.json.items.map((i: { center: string; study_iuid: string }) => `${i.center}/${i.study_iuid}`);
    expect(got).toEqual(expected({ patient_id: '12345678-5' }));
    expect(new Set(r.json.items.map((i: { center: string }) => i.center))).toEqual(new Set(['C1', 'C2']));
  });

  it('GET /api/v2/centers counts live studies', async () => {
    const r = await http(rx.base, 'GET', '/api/v2/centers', { headers: bearer(token) });
    const live = (c: string) => data.filter((f) => f.center === c && !f.deleted).length;
    expect(r.json.items.map((c: { code: string; studies: number }) => [c.code, c.studies])).toEqual([['C1', live('C1')], ['C2', live('C2')]]);
    expect(r.json.items[0]).toMatchObject({ name: 'Centre C1', last_source_seq: 1, last_seen: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
  });

  it('GET /api/v2/stats groups by centre, modality and month', async () => {
    const live = data.filter((f) => !f.deleted);
    const count = (keys: (string | null)[]) => {
      const m = new Map<string | null, number>();
      for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
      return m;
    };
    const get = async (g: string) => {
      const r = await http(rx.base, 'GET', `/api/v2/stats?group_by=${g}`, { headers: bearer(token) });
      expect(r.json.group_by).toBe(g);
      return new Map(r.json.items.map((i: { key: string | null; studies: number }) => [i.key, i.studies]));
    };
    expect(await get('center')).toEqual(count(live.map((f) => f.center)));
    expect(await get('modality')).toEqual(count(live.flatMap((f) => f.modalities)));
    expect(await get('month')).toEqual(count(live.map((f) => f.study_datetime?.slice(0, 7) ?? null)));
    expect((await http(rx.base, 'GET', '/api/v2/stats?group_by=patient', { headers: bearer(token) })).status).toBe(400);
    expect((await http(rx.base, 'GET', '/api/v2/stats', { headers: bearer(token) })).status).toBe(400);
  });

  it('legacy read endpoints with the token in X-Api-Key: patient id, safe name prefix, description', async () => {
    const h = { 'x-api-key': token };
    const keys = (r: { json: { center: string; study_iuid: string }[] }) => r.json.map((i) => `${i.center}/${i.study_iuid}`);
    expect(keys(await http(rx.base, 'GET', '/api/v1/patient_id/123456785', { headers: h }))).toEqual(expected({ patient_id: '123456785' }));
    expect(keys(await http(rx.base, 'GET', '/api/v1/patient_name/p%C3%A9rez', { headers: h }))).toEqual(expected({ name: 'perez' }));
    // Regex metacharacters are plain text: no match rather than "everything".
    expect(keys(await http(rx.base, 'GET', `/api/v1/patient_name/${encodeURIComponent('.*')}`, { headers: h }))).toEqual([]);
    expect(keys(await http(rx.base, 'GET', '/api/v1/description/TORAX', { headers: h }))).toEqual(expected({ description: 'torax' }));
    expect((await http(rx.base, 'GET', '/api/v1/patient_id/123456785')).status).toBe(401);
  });
});

describe('audit and logs', () => {
  it('every read is audited with token name, route, parameters, result count', async () => {
    await http(rx.base, 'GET', '/api/v2/studies?patient_id=3.705.779-7&limit=5', { headers: bearer(token) });
    const want = expected({ patient_id: '3705779-7' }).slice(0, 5).length;
    const [rows] = await rx.pool.query<RowDataPacket[]>('SELECT * FROM read_audit ORDER BY id DESC LIMIT 1');
    expect(rows[0]).toMatchObject({ token_name: 'central', route: 'GET /api/v2/studies', result_count: want, status: 200 });
    expect(JSON.parse(rows[0]!.parameters).query).toMatchObject({ patient_id: '3.705.779-7', limit: 5 });
    const entries = await rx.store.access.listAudit(null);
    expect(entries.length).toBeGreaterThan(20);
    expect(entries.some((e) => e.route === 'GET /api/v1/patient_id/:id')).toBe(true);
  });

  it('a refused read by a valid token is audited too', async () => {
    await http(rx.base, 'GET', '/api/v2/studies?cursor=broken', { headers: bearer(token) });
    const [rows] = await rx.pool.query<RowDataPacket[]>('SELECT * FROM read_audit ORDER BY id DESC LIMIT 1');
    expect(rows[0]).toMatchObject({ token_name: 'central', status: 400, result_count: 0 });
  });

  it('a read its schema refuses is audited with its status', async () => {
    await http(rx.base, 'GET', '/api/v2/studies?limit=lots', { headers: bearer(token) });
    const [rows] = await rx.pool.query<RowDataPacket[]>('SELECT * FROM read_audit ORDER BY id DESC LIMIT 1');
    expect(rows[0]).toMatchObject({ token_name: 'central', route: 'GET /api/v2/studies', status: 400, result_count: 0 });
    expect(JSON.parse(rows[0]!.parameters).query).toMatchObject({ limit: 'lots' });
  });

  it('no patient identifier or name reaches the service log', async () => {
    await http(rx.base, 'GET', `/api/v2/patients/${encodeURIComponent('12.345.678-5')}/studies?limit=5000`, { headers: bearer(token) });
    const log = rx.logLines.join('\n');
    expect(log).toContain('"route":"/api/v2/patients/:patient_id/studies"');
    for (const secret of ['12.345.678', '12345678', '123456785', '3705779', '3.705.779', 'PÉREZ', 'PEREZ', 'perez', 'NÚÑEZ', 'ABC-1', 'abc-1']) {
      expect(log, secret).not.toContain(secret);
    }
  });
});

describe('operations endpoints', () => {
  it('/metrics also exposes the process: CPU, memory, GC and event-loop lag', async () => {
    const text = (await http(rx.base, 'GET', '/metrics')).text;
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
      expect(text).toMatch(new RegExp(`^${name} [0-9.e+-]+$`, 'm'));
    }
    expect(text).toContain('# TYPE nodejs_gc_duration_seconds histogram');
  });

  it('healthz, readyz, metrics, openapi, 404 JSON', async () => {
    expect((await http(rx.base, 'GET', '/healthz')).json).toEqual({ status: 'ok' });
    expect((await http(rx.base, 'GET', '/readyz')).json).toEqual({ status: 'ready' });
    const metrics = await http(rx.base, 'GET', '/metrics');
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
    expect(metrics.text).toMatch(/receiver_http_requests_total\{method="GET",route="\/api\/v2\/studies",status="200"\} \d+/);
    expect(metrics.text).toMatch(/receiver_ingest_records_total\{center="C1",outcome="stored"\} \d+/);
    expect(metrics.text).toMatch(/receiver_center_last_seen_seconds\{center="C2"\} \d+/);
    expect(metrics.text).toContain('receiver_ingest_batch_seconds_count 2');
    const doc = (await http(rx.base, 'GET', '/openapi.json')).json;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining([
      '/api/v2/centers/{center}/studies', '/api/v1/register', '/api/v2/studies', '/api/v2/patients/{patient_id}/studies',
      '/api/v2/centers', '/api/v2/stats', '/api/v1/patient_id/{id}', '/healthz', '/readyz', '/metrics',
    ]));
    expect(doc.paths['/api/v2/studies'].get.parameters.map((p: { name: string }) => p.name)).toContain('modality');
    const missing = await http(rx.base, 'GET', '/api/v3/nothing');
    expect(missing.status).toBe(404);
    expect(missing.json.error).toBe('not_found');
  });
});
