import { CONTENT_HASH_PATTERN, hashDigest } from '../shared/content-hash.js';
import { familyNameKey, patientKey } from '../shared/patient-key.js';
import { splitModalities } from '../shared/study-record.js';

/** One validated study version, ready for the store (dates in MySQL form). */
export interface StudyVersion {
  study_iuid: string;
  source_seq: number;
  deleted: boolean;
  study_pk: number | null;
  patient_pk: number | null;
  patient_id: string | null;
  patient_key: string | null;
  patient_id_issuer: string | null;
  patient_name: string | null;
  name_key: string | null;
  /** YYYY-MM-DD */
  patient_birthdate: string | null;
  patient_sex: string | null;
  /** YYYY-MM-DD HH:MM:SS */
  study_datetime: string | null;
  study_description: string | null;
  study_modality: string | null;
  modalities: string[];
  study_series: number;
  study_instances: number;
  accession_no: string | null;
  study_id: string | null;
  referring_physician: string | null;
  /** The agent's fingerprint (32 lowercase hex), stored as sent; null when absent. */
  content_hash: string | null;
  /** hashDigest(content_hash) (60 bits, a BIGINT for the database); null when absent. */
  digest: bigint | null;
}

export type Validated = { ok: true; version: StudyVersion } | { ok: false; study_iuid: string | null; reason: string };

/**
 * Legacy records carry no version: they get one from the time they arrive, offset far below zero so
 * that a later legacy post replaces an earlier one, while any agent (v2) version, always >= 0, wins.
 */
export const LEGACY_SEQ_OFFSET = 2 ** 52;
export function legacySourceSeq(nowMs: number): number {
  return nowMs - LEGACY_SEQ_OFFSET;
}

class RecordError extends Error {}

const UID = /^[\x21-\x7e]{1,255}$/;
const MODALITY = /^[\x20-\x7e]{1,16}$/;
const DATETIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?$/;

const BLANK = /^\s*$/;

/** Text or null: blank → null, NULs dropped; over-long identifiers are rejected, free text truncated. */
function text(rec: Record<string, unknown>, field: string, max: number, overLong: 'truncate' | 'reject'): string | null {
  const v = rec[field];
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string' && typeof v !== 'number') throw new RecordError(`${field} must be a string or null`);
  const raw = typeof v === 'string' ? v : String(v);
  const s = raw.includes('\u0000') ? raw.replace(/\u0000/g, '') : raw;
  if (BLANK.test(s)) return null;
  // UTF-16 length >= code points: the common short value needs no character split.
  if (s.length <= max) return s;
  const chars = Array.from(s);
  if (chars.length <= max) return s;
  if (overLong === 'reject') throw new RecordError(`${field} is longer than ${max} characters`);
  return chars.slice(0, max).join('');
}

/** Integer or null; numeric strings are accepted (the legacy client sends "2452"). */
function integer(rec: Record<string, unknown>, field: string, min: number): number | null {
  const v = rec[field];
  if (v === null || v === undefined || v === '') return null;
  const n = typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min) {
    throw new RecordError(`${field} must be an integer >= ${min}`);
  }
  return n;
}

const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function validCalendar(y: number, m: number, d: number): boolean {
  if (y < 1000 || y > 9999 || m < 1 || m > 12 || d < 1) return false;
  if (m === 2 && d === 29) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  return d <= MONTH_DAYS[m - 1]!;
}

/** Names repeat across a centre's batches (one patient, many studies): folding is memoised. */
const nameKeys = new Map<string, string | null>();
function nameKeyOf(name: string | null): string | null {
  if (name === null) return null;
  let key = nameKeys.get(name);
  if (key === undefined) {
    key = familyNameKey(name)?.slice(0, 255) ?? null;
    if (nameKeys.size >= 50_000) nameKeys.clear();
    nameKeys.set(name, key);
  }
  return key;
}

function contentHashOf(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string' || !CONTENT_HASH_PATTERN.test(v)) throw new RecordError('content_hash must be 32 lowercase hex characters');
  return v;
}

/** YYYY-MM-DD (or DICOM YYYYMMDD); anything unparseable becomes null: birth dates in PACSes are messy. */
function birthdate(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  const m = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(v.trim());
  if (!m || !validCalendar(Number(m[1]), Number(m[2]), Number(m[3]))) return null;
  return `${m[1]}-${m[2]}-${m[3]}`;
}

/** The sort key: strict, a bad value rejects the record rather than misplacing it. */
function studyDatetime(v: unknown, legacy: boolean): string | null {
  if (v === null || v === undefined || v === '') return null;
  if (legacy && v === 'None') return null;
  if (typeof v !== 'string') throw new RecordError('study_datetime must be a string or null');
  const m = DATETIME.exec(v.trim());
  const ok = m && validCalendar(Number(m[1]), Number(m[2]), Number(m[3])) &&
    Number(m[4]) < 24 && Number(m[5]) < 60 && Number(m[6]) < 60;
  if (!m || !ok) throw new RecordError('study_datetime must be YYYY-MM-DDTHH:MM:SS');
  return `${m[1]}-${m[2]}-${m[3]} ${m[4]}:${m[5]}:${m[6]}`;
}

function modalityList(rec: Record<string, unknown>, studyModality: string | null): string[] {
  const v = rec.modalities;
  let list: string[];
  if (v === null || v === undefined) list = splitModalities(studyModality);
  else if (Array.isArray(v) && v.every((m) => typeof m === 'string')) {
    list = splitModalities((v as string[]).join('\\'));
  } else throw new RecordError('modalities must be an array of strings');
  return list.filter((m) => MODALITY.test(m));
}

function iuidOf(rec: Record<string, unknown>): string {
  const v = rec.study_iuid;
  if (typeof v !== 'string') throw new RecordError('study_iuid is required (a string)');
  const s = v.replace(/\u0000/g, '').trim();
  if (!UID.test(s)) throw new RecordError('study_iuid must be 1-255 printable ASCII characters');
  return s;
}

function deletedFlag(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new RecordError('deleted must be a boolean');
  return v;
}

function sourceSeq(rec: Record<string, unknown>): number {
  const v = rec.source_seq;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new RecordError('source_seq is required (an integer >= 0)');
  }
  return v;
}

function build(rec: Record<string, unknown>, seq: number, legacy: boolean): StudyVersion {
  const study_iuid = iuidOf(rec);
  const patient_id = text(rec, 'patient_id', 255, 'reject');
  const patient_name = text(rec, 'patient_name', 255, 'truncate');
  const study_modality = text(rec, 'study_modality', 255, 'truncate');
  // Legacy records never carry one; a v2 record's hash is the agent's, validated for form only.
  const content_hash = legacy ? null : contentHashOf(rec.content_hash);
  return {
    study_iuid,
    source_seq: seq,
    deleted: legacy ? false : deletedFlag(rec.deleted),
    study_pk: integer(rec, 'study_pk', 0),
    patient_pk: integer(rec, 'patient_pk', 0),
    patient_id,
    patient_key: patientKey(patient_id),
    patient_id_issuer: text(rec, 'patient_id_issuer', 255, 'reject'),
    patient_name,
    name_key: nameKeyOf(patient_name),
    patient_birthdate: birthdate(rec.patient_birthdate),
    patient_sex: text(rec, 'patient_sex', 16, 'truncate'),
    study_datetime: studyDatetime(rec.study_datetime, legacy),
    study_description: text(rec, 'study_description', 255, 'truncate'),
    study_modality,
    modalities: modalityList(rec, study_modality),
    study_series: integer(rec, 'study_series', 0) ?? 0,
    study_instances: integer(rec, 'study_instances', 0) ?? 0,
    accession_no: text(rec, 'accession_no', 64, 'reject'),
    study_id: text(rec, 'study_id', 64, 'reject'),
    referring_physician: text(rec, 'referring_physician', 255, 'truncate'),
    content_hash,
    digest: content_hash === null ? null : hashDigest(content_hash),
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function guessIuid(v: unknown): string | null {
  return isObject(v) && typeof v.study_iuid === 'string' ? v.study_iuid.slice(0, 255) : null;
}

/** Validates one v2 record posted for `center` (its own `center`, when given, must match). */
export function validateRecord(raw: unknown, center: string): Validated {
  try {
    if (!isObject(raw)) throw new RecordError('record must be a JSON object');
    if (raw.center !== undefined && raw.center !== null && String(raw.center) !== center) {
      throw new RecordError('center does not match the URL');
    }
    return { ok: true, version: build(raw, sourceSeq(raw), false) };
  } catch (err) {
    if (!(err instanceof RecordError)) throw err;
    return { ok: false, study_iuid: guessIuid(raw), reason: err.message };
  }
}

/** Validates one legacy (v1) record; its version comes from `nowMs` (see legacySourceSeq). */
export function validateLegacyRecord(raw: Record<string, unknown>, nowMs: number): Validated {
  try {
    return { ok: true, version: build(raw, legacySourceSeq(nowMs), true) };
  } catch (err) {
    if (!(err instanceof RecordError)) throw err;
    return { ok: false, study_iuid: guessIuid(raw), reason: err.message };
  }
}
