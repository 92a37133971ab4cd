import type { RowDataPacket } from 'mysql2/promise';
import { expect } from 'vitest';
import { addCenter, addToken, bearer, http, startReceiver, type HttpResult, type Receiver } from '../receiver-harness.js';

/**
 * A realistic seeded index for the QIDO-RS tests, written through the real ingest API: three
 * centres (C1 with a registered DICOMweb base and AE title), a RUT written three ways, non-RUT ids
 * differing only by case, accents (PÉREZ, Núñez, MUÑOZ vs MUNOZ), undated studies, 0/1/many
 * modalities, tombstones, long descriptions, one UID held by two centres.
 */

export interface Fixture {
  center: string;
  study_iuid: string;
  patient_id: string | null;
  patient_id_issuer: string | null;
  patient_name: string | null;
  patient_birthdate: string | null;
  patient_sex: string | null;
  study_datetime: string | null;
  study_description: string | null;
  modalities: string[];
  accession_no: string | null;
  study_id: string | null;
  referring_physician: string | null;
  study_series: number;
  study_instances: number;
  deleted: boolean;
}

export const LONG_DESCRIPTION = `ESTUDIO DE TÓRAX ${'CON CONTRASTE Y RECONSTRUCCIÓN MULTIPLANAR '.repeat(5)}FIN`.slice(0, 250);

const PATIENTS: [string | null, string | null][] = [
  ['12.345.678-5', 'PÉREZ GONZÁLEZ^JOSÉ'],
  ['12345678-5', 'Pérez González^José'],
  ['123456785', 'PEREZ GONZALEZ^JOSE'],
  ['12.667.869-k', 'NÚÑEZ^MARÍA'],
  ['12667869-K', 'Núñez^María José'],
  ['abc-1', 'MUÑOZ^CARLA'],
  ['ABC-1', 'MUNOZ^CARLOS'],
  ['3705779-7', 'perez^ana'],
  ['HC-0042', 'PERALTA^LUIS=ペラルタ^ルイス'],
  ['O-7', 'O_BRIEN^X'],
  [null, null],
];
const DATES = ['2021-03-01T08:00:00', '2021-03-01T10:30:15', '2021-03-15T23:59:59', '2021-02-28T00:00:00', null,
  '2019-12-31T12:00:00', '2020-06-15T10:30:00', '2023-07-04T16:45:30', null, '2021-03-01T10:30:59'];
const MODALITIES = [[], ['CT'], ['CT', 'SR'], ['MR', 'PT', 'CT'], ['US'], ['MR'], ['CR', 'DX', 'PR', 'KO', 'SR', 'OT']];
const DESCRIPTIONS = ['TORAX AP', 'Tórax lateral', 'CEREBRO SIMPLE', '50% DOSIS', LONG_DESCRIPTION, null, 'DOSIS 500'];
const REFERRING = ['HOUSE^GREGORY', 'Cuddy^Lisa', 'WILSON^JAMES^E', null];
const SEX = ['M', 'F', 'O', null];

export const CENTERS = ['C1', 'C2', 'C3'];
export const C1_DICOMWEB = 'https://pacs.c1.example.cl/dicom-web';
export const C1_AET = 'PACSC1';

export function fixtures(): Fixture[] {
  const out = Array.from({ length: 90 }, (_, i): Fixture => {
    const [patient_id, patient_name] = PATIENTS[i % PATIENTS.length]!;
    return {
      center: CENTERS[i % 3]!,
      study_iuid: `1.2.826.0.1.${i}`,
      patient_id,
      patient_id_issuer: patient_id === null ? null : i % 2 === 0 ? 'RUT' : null,
      patient_name,
      patient_birthdate: i % 2 === 1 ? '1980-02-29' : null,
      patient_sex: SEX[i % 4]!,
      study_datetime: DATES[(i * 7) % DATES.length]!,
      study_description: DESCRIPTIONS[(i * 5) % DESCRIPTIONS.length]!,
      modalities: MODALITIES[(i * 3) % MODALITIES.length]!,
      accession_no: i % 3 === 0 ? `ACC-${i % 9}` : null,
      study_id: i % 4 === 1 ? `S${i % 5}` : null,
      referring_physician: REFERRING[(i * 5) % REFERRING.length]!,
      study_series: i % 5,
      study_instances: i * 3,
      deleted: i % 13 === 6,
    };
  });
  // The same study held by a second centre (sent to both).
  out.push({ ...out[0]!, center: 'C2' });
  return out;
}

export interface Seeded {
  rx: Receiver;
  token: string;
  centerKey: string;
  data: Fixture[];
  /** `center/uid` → row id. */
  ids: Map<string, number>;
}

export async function seed(prefix: string, options: Parameters<typeof startReceiver>[1] = {}): Promise<Seeded> {
  const rx = await startReceiver(prefix, options);
  const token = await addToken(rx.store, 'central');
  const data = fixtures();
  let centerKey = '';
  for (const code of CENTERS) {
    const key = await addCenter(rx.store, code);
    centerKey ||= key;
    const records = data.filter((f) => f.center === code).map((f) => ({
      ...f, study_modality: f.modalities.join('\\'), source_seq: 1, study_pk: 1, patient_pk: 1,
    }));
    const r = await http(rx.base, 'POST', `/api/v2/centers/${code}/studies`, { headers: bearer(key), json: { records } });
    expect(r.json.stored, JSON.stringify(r.json)).toBe(records.length);
  }
  await rx.store.access.setCenterDetails('C1', { name: 'Hospital Regional de Concepción', dicomwebUrl: C1_DICOMWEB, retrieveAet: C1_AET });
  await rx.store.access.setCenterDetails('C2', { name: 'Clínica Alemana' });
  await rx.store.access.setCenterDetails('C3', { name: null });
  const [rows] = await rx.pool.query<RowDataPacket[]>('SELECT s.id, s.study_iuid, c.code FROM studies s JOIN centers c ON c.id = s.center_id');
  const ids = new Map(rows.map((r) => [`${r.code}/${r.study_iuid}`, Number(r.id)]));
  return { rx, token, centerKey, data, ids };
}

/** The live fixtures that `keep` selects, in the index's order: newest first, undated last, ties by row id (newest first). */
export function expectedOrder(s: Seeded, keep: (f: Fixture) => boolean): string[] {
  return s.data
    .filter((f) => !f.deleted && keep(f))
    .map((f) => ({ key: `${f.center}/${f.study_iuid}`, sort: f.study_datetime ?? '1000-01-01T00:00:00', id: s.ids.get(`${f.center}/${f.study_iuid}`)! }))
    .sort((a, b) => (a.sort === b.sort ? b.id - a.id : a.sort < b.sort ? 1 : -1))
    .map((x) => x.key);
}

export type DicomJson = Record<string, { vr: string; Value?: unknown[] }>;

/** `centre/uid` of each study of a QIDO answer (the private centre code and the StudyInstanceUID). */
export function keysOf(studies: DicomJson[]): string[] {
  return studies.map((s) => `${String(s['00091001']?.Value?.[0])}/${String(s['0020000D']?.Value?.[0])}`);
}

/** A QIDO-RS search with a query string built from pairs (repeats allowed), with the test's token. */
export async function qido(s: Seeded, pairs: [string, string][] | string, headers: Record<string, string> = {}): Promise<HttpResult> {
  const query = typeof pairs === 'string' ? pairs : pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  return http(s.rx.base, 'GET', `/dicom-web/studies${query ? `?${query}` : ''}`, { headers: { ...bearer(s.token), ...headers } });
}

/** Every match of a QIDO-RS search, paged by limit/offset `step` at a time. */
export async function qidoAll(s: Seeded, pairs: [string, string][], step: number): Promise<string[]> {
  const out: string[] = [];
  for (let offset = 0; offset <= 10_000; offset += step) {
    const r = await qido(s, [...pairs, ['limit', String(step)], ['offset', String(offset)]]);
    expect(r.status, r.text).toBe(200);
    expect(r.headers['content-type']).toBe('application/dicom+json');
    out.push(...keysOf(r.json));
    if (r.json.length < step) return out;
  }
  throw new Error('paging did not end');
}

/** Every study of a /api/v2/studies search, paging with its cursor, as `centre/uid`. */
export async function apiV2(s: Seeded, q: Record<string, string>): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 100; pages += 1) {
    const params = new URLSearchParams({ ...q, limit: '7', ...(cursor ? { cursor } : {}) });
    const r = await http(s.rx.base, 'GET', `/api/v2/studies?${params}`, { headers: bearer(s.token) });
    expect(r.status, r.text).toBe(200);
    out.push(...r.json.items.map((i: { center: string; study_iuid: string }) => `${i.center}/${i.study_iuid}`));
    cursor = r.json.next_cursor;
    if (!cursor) return out;
  }
  throw new Error('paging did not end');
}

/** Audit rows written since `sinceId` (exclusive), oldest first. */
export async function auditSince(rx: Receiver, sinceId: number): Promise<RowDataPacket[]> {
  const [rows] = await rx.pool.query<RowDataPacket[]>('SELECT * FROM read_audit WHERE id > ? ORDER BY id', [sinceId]);
  return rows;
}

export async function lastAuditId(rx: Receiver): Promise<number> {
  const [rows] = await rx.pool.query<RowDataPacket[]>('SELECT COALESCE(MAX(id), 0) AS id FROM read_audit');
  return Number(rows[0]!.id);
}
