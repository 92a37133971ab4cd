import type { RowDataPacket } from 'mysql2/promise';
import { expect } from 'vitest';
import { foldText, patientKey } from '../../../src/shared/patient-key.js';
import { addCenter, bearer, http, type Receiver } from '../../helpers/receiver-harness.js';
import { expectValidFhir } from './fhir-validator.js';

/**
 * A realistic seeded index for the FHIR tests: three centres (C1 with a registered DICOMweb base),
 * accented names and descriptions, RUTs written three ways (and with k), non-RUT ids, an invalid
 * RUT, no id, undated studies, 0, 1 and many modalities, accessions shared across centres, one UID
 * at two centres, and tombstones. Seeded through the real ingest API.
 */
export interface Fixture {
  center: string;
  study_iuid: string;
  patient_id: string | null;
  patient_name: string | null;
  study_datetime: string | null;
  study_description: string | null;
  modalities: string[];
  accession_no: string | null;
  referring_physician: string | null;
  study_series: number;
  study_instances: number;
  deleted: boolean;
}

export const CENTERS = ['C1', 'C2', 'C3'];
export const DICOMWEB_BASE = 'https://pacs.hospital-regional.cl/dicom-web';
// ' abc-1 ' and 'ABC-1': two patients at one centre whose ids differ only by case.
const PATIENT_IDS = ['12.345.678-5', '12345678-5', '123456785', '12.667.869-k', '3705779-7', ' abc-1 ', null, 'MRN-000123', '12345678-9', 'ABC-1'];
const NAMES = ['PÉREZ GONZÁLEZ^JOSÉ', 'perez^ana', 'NÚÑEZ^MARÍA', "O'HIGGINS^BERNARDO", null];
const DATES = ['2021-03-01T08:00:00', '2021-03-01T23:59:59', '2021-02-28T10:00:00', '2021-03-02T00:00:00', null, '2019-12-31T12:00:00',
  '2020-06-15T10:30:00', '2022-01-01T00:00:00', '2021-12-31T23:00:00'];
const MODALITIES = [['CT'], ['CT', 'SR'], ['MR'], [], ['CR', 'DX', 'PR'], ['US'], ['SR']];
const DESCRIPTIONS = ['TÓRAX AP', 'Cerebro sin contraste', 'ECOGRAFÍA ABDOMINAL', null, 'RX Tórax\u00a0PA'];
const REFERRERS = ['SOTO^ANA', null, 'MUÑOZ^PEDRO^JAVIER^DR'];

export function fixtures(): Fixture[] {
  const list = Array.from({ length: 90 }, (_, i): Fixture => ({
    center: CENTERS[i % 3]!,
    study_iuid: `1.2.826.0.1.${i}`,
    patient_id: PATIENT_IDS[(i * 7) % PATIENT_IDS.length]!,
    patient_name: NAMES[i % NAMES.length]!,
    study_datetime: DATES[(i * 5) % DATES.length]!,
    study_description: DESCRIPTIONS[i % DESCRIPTIONS.length]!,
    modalities: MODALITIES[(i * 3) % MODALITIES.length]!,
    accession_no: i % 5 === 0 ? `ACC-${i % 4}` : null,
    referring_physician: REFERRERS[i % REFERRERS.length]!,
    study_series: i % 4,
    study_instances: i * 10,
    deleted: i % 13 === 6,
  }));
  // The same study (UID) held at a second centre.
  list.push({ ...list[1]!, center: 'C3', accession_no: 'acc-1' });
  return list;
}

export interface Seeded {
  data: Fixture[];
  /** Row id of `centre/uid`. */
  ids: Map<string, number>;
}

export async function seedIndex(rx: Receiver): Promise<Seeded> {
  const data = fixtures();
  for (const code of CENTERS) {
    const key = await addCenter(rx.store, code);
    const records = data.filter((f) => f.center === code).map((f) => ({
      ...f, study_modality: f.modalities.join('\\') || null, source_seq: 1, study_pk: 1, patient_pk: 1,
    }));
    const r = await http(rx.base, 'POST', `/api/v2/centers/${code}/studies`, { headers: bearer(key), json: { records } });
    expect(r.status).toBe(200);
    expect(r.json.stored).toBe(records.length);
  }
  await rx.store.access.setCenterDetails('C1', { name: 'Hospital Regional de Concepción', dicomwebUrl: DICOMWEB_BASE });
  await rx.store.access.setCenterDetails('C2', { name: 'Clínica Ñuñoa' });
  const [rows] = await rx.pool.query<RowDataPacket[]>('SELECT s.id, s.study_iuid, c.code FROM studies s JOIN centers c ON c.id = s.center_id');
  const ids = new Map<string, number>();
  for (const r of rows) ids.set(`${String(r.code)}/${String(r.study_iuid)}`, Number(r.id));
  return { data, ids };
}

/** The store's semantics, applied to the fixtures: the reference every answer must equal. */
export interface Filter {
  patientKey?: string;
  /** The id as stored (trimmed), case-sensitive. */
  patientId?: string;
  centers?: string[];
  modalities?: string[];
  from?: string;
  to?: string;
  accession?: string;
  uids?: string[];
}

export function expected(s: Seeded, f: Filter): string[] {
  return s.data
    .filter((x) => !x.deleted)
    .filter((x) => f.patientKey === undefined || (x.patient_id !== null && patientKey(x.patient_id) === f.patientKey))
    .filter((x) => f.patientId === undefined || (x.patient_id !== null && x.patient_id.trim() === f.patientId))
    .filter((x) => f.centers === undefined || f.centers.includes(x.center))
    .filter((x) => f.modalities === undefined || x.modalities.some((m) => f.modalities!.includes(m)))
    .filter((x) => f.from === undefined || (x.study_datetime !== null && x.study_datetime.slice(0, 10) >= f.from))
    .filter((x) => f.to === undefined || (x.study_datetime !== null && x.study_datetime.slice(0, 10) <= f.to))
    .filter((x) => f.accession === undefined || (x.accession_no !== null && foldText(x.accession_no) === foldText(f.accession)))
    .filter((x) => f.uids === undefined || f.uids.includes(x.study_iuid))
    .map((x) => ({ key: `${x.center}/${x.study_iuid}`, sort: x.study_datetime ?? '1000-01-01T00:00:00', id: s.ids.get(`${x.center}/${x.study_iuid}`)! }))
    .sort((a, b) => (a.sort === b.sort ? b.id - a.id : a.sort < b.sort ? 1 : -1))
    .map((x) => x.key);
}

/** `centre/uid` of an ImagingStudy, from its location and DICOM identifier. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function keyOf(r: any): string {
  const uid = String(r.identifier[0].value).replace(/^urn:oid:/, '');
  return `${String(r.location.identifier.value)}/${uid}`;
}

export const FHIR_CT = 'application/fhir+json; charset=utf-8';

/** Follows next links to the end over real HTTP, validating every Bundle; the `centre/uid` list. */
export async function walk(rx: Receiver, token: string, query: string, headers: Record<string, string> = {}): Promise<{ keys: string[]; totals: (number | undefined)[]; pages: number }> {
  const keys: string[] = [];
  const totals: (number | undefined)[] = [];
  let path: string | null = `/fhir/ImagingStudy?${query}`;
  for (let pages = 1; pages < 200; pages += 1) {
    const r = await http(rx.base, 'GET', path!, { headers: { ...bearer(token), ...headers } });
    expect(r.status, `${path} ${r.text.slice(0, 300)}`).toBe(200);
    expect(r.headers['content-type']).toBe(FHIR_CT);
    expectValidFhir(r.json, path!);
    expect(r.json.type).toBe('searchset');
    totals.push(r.json.total);
    keys.push(...(r.json.entry ?? []).map((e: { resource: unknown }) => keyOf(e.resource)));
    const next = (r.json.link as { relation: string; url: string }[]).find((l) => l.relation === 'next');
    if (!next) return { keys, totals, pages };
    expect(next.url.startsWith(`${rx.base}/fhir/ImagingStudy?`)).toBe(true);
    path = next.url.slice(rx.base.length);
  }
  throw new Error('paging did not end');
}
