import { rutCheckDigit } from '../src/shared/patient-key.js';
import { contentHash } from '../src/shared/content-hash.js';
import type { StudyRecord } from '../src/shared/study-record.js';

/**
 * Deterministic, realistic-enough study records for the receiver benchmarks: Chilean RUTs in mixed
 * spellings, Spanish names with accents, a CR/CT/MR/US/DX/MG mix with multi-modality studies, dates
 * over 15 years (a few undated), patients who have studies at several centres.
 */

/** mulberry32: small, fast, seedable; the same seed gives the same data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FAMILY = ['GONZÁLEZ', 'MUÑOZ', 'ROJAS', 'DÍAZ', 'PÉREZ', 'SOTO', 'CONTRERAS', 'SILVA', 'MARTÍNEZ', 'SEPÚLVEDA',
  'MORALES', 'RODRÍGUEZ', 'LÓPEZ', 'FUENTES', 'HERNÁNDEZ', 'TORRES', 'ARAYA', 'FLORES', 'ESPINOZA', 'VALENZUELA',
  'CASTILLO', 'TAPIA', 'REYES', 'GUTIÉRREZ', 'CASTRO', 'PIZARRO', 'ÁLVAREZ', 'VÁSQUEZ', 'SÁNCHEZ', 'FERNÁNDEZ',
  'RAMÍREZ', 'CARRASCO', 'GÓMEZ', 'CORTÉS', 'HERRERA', 'NÚÑEZ', 'JARA', 'VERGARA', 'RIVERA', 'FIGUEROA'];
const GIVEN = ['JOSÉ', 'MARÍA', 'JUAN', 'ANA', 'LUIS', 'CARMEN', 'PEDRO', 'ROSA', 'JORGE', 'SOFÍA', 'RAÚL', 'INÉS',
  'TOMÁS', 'VALENTINA', 'MATÍAS', 'CAMILA', 'BENJAMÍN', 'ISIDORA', 'AGUSTÍN', 'FERNANDA'];
const MODS = [['CR'], ['CR'], ['CT'], ['CT', 'SR'], ['MR'], ['US'], ['DX'], ['DX'], ['MG'], ['CT', 'PT'], ['MR', 'SR'], ['US']];
const DESCRIPTIONS = ['TORAX AP', 'Tórax lateral', 'CEREBRO S/C', 'ABDOMEN Y PELVIS', 'MAMOGRAFÍA BILATERAL',
  'RODILLA DERECHA', 'COLUMNA LUMBAR', 'ECOGRAFÍA ABDOMINAL', 'PET-CT CUERPO ENTERO', 'RM CEREBRO C/C'];

export interface Patient {
  id: string | null;
  name: string;
  birthdate: string | null;
  sex: string;
}

function pick<T>(r: () => number, list: readonly T[]): T {
  return list[Math.floor(r() * list.length)]!;
}

/** A RUT in one of the spellings found in PACSes; some malformed, a few missing. */
function rutOf(r: () => number, body: number): string | null {
  const b = String(body);
  const dv = rutCheckDigit(b);
  const form = r();
  if (form < 0.45) return `${b}-${dv}`;
  if (form < 0.7) return `${b.replace(/\B(?=(\d{3})+$)/g, '.')}-${dv}`;
  if (form < 0.85) return `${b}${dv.toLowerCase()}`;
  if (form < 0.97) return `${b}-${dv === '0' ? '1' : '0'}`; // wrong check digit: kept as typed
  return null;
}

/** `count` people; patient i is the same person at every centre (shared identity). */
export function patients(count: number, seed = 7): Patient[] {
  const r = prng(seed);
  return Array.from({ length: count }, (_, i) => {
    const y = 1930 + Math.floor(r() * 90);
    return {
      id: rutOf(r, 3_000_000 + i * 7 + Math.floor(r() * 7)),
      name: `${pick(r, FAMILY)} ${pick(r, FAMILY)}^${pick(r, GIVEN)}`,
      birthdate: r() < 0.05 ? null : `${y}-${String(1 + Math.floor(r() * 12)).padStart(2, '0')}-${String(1 + Math.floor(r() * 28)).padStart(2, '0')}`,
      sex: r() < 0.5 ? 'F' : 'M',
    };
  });
}

function datetimeOf(r: () => number): string | null {
  if (r() < 0.02) return null;
  const t = Date.UTC(2010, 0, 1) + Math.floor(r() * 15 * 365 * 86_400_000);
  return new Date(t).toISOString().slice(0, 19);
}

export interface StudyOptions {
  center: string;
  /** Index of the first study (iuids and study_pk are derived from it). */
  first: number;
  count: number;
  people: Patient[];
  seed: number;
  sourceSeq: number;
}

/** `count` records of one centre; a patient usually has several studies here and at other centres. */
export function studies(o: StudyOptions): StudyRecord[] {
  const r = prng(o.seed);
  return Array.from({ length: o.count }, (_, k) => {
    const i = o.first + k;
    const pi = Math.floor(r() * o.people.length);
    const p = o.people[pi]!;
    const mods = pick(r, MODS);
    const rec: StudyRecord = {
      center: o.center,
      study_iuid: `1.2.826.0.1.3680043.10.${o.center}.${i}.${Math.floor(r() * 1e6)}`,
      study_pk: i + 1,
      patient_pk: pi + 1,
      patient_id: p.id,
      patient_id_issuer: r() < 0.3 ? 'RUT' : null,
      patient_name: p.name,
      patient_birthdate: p.birthdate,
      patient_sex: p.sex,
      study_datetime: datetimeOf(r),
      study_description: pick(r, DESCRIPTIONS),
      study_modality: mods.join('\\'),
      modalities: mods,
      study_series: 1 + Math.floor(r() * 8),
      study_instances: 1 + Math.floor(r() * 900),
      accession_no: r() < 0.9 ? `A${o.center}${i}` : null,
      study_id: String(i % 100_000),
      referring_physician: r() < 0.5 ? `${pick(r, FAMILY)}^${pick(r, GIVEN)}` : null,
      source_seq: o.sourceSeq,
      deleted: r() < 0.01,
    };
    return { ...rec, content_hash: contentHash(rec) } as StudyRecord;
  });
}
