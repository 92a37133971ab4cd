import { CONTENT_HASH_PATTERN } from '../shared/content-hash.js';
import {
  COLUMN_CHARS, MAX_SOURCE_SEQ, exceedsChars, fitModalities, truncateChars, type FreeTextField, type IdentifierField,
} from '../shared/record-limits.js';
import { cleanText, parseBirthdate, parseCount, parseDateTime } from '../shared/record-values.js';
import { splitModalities } from '../shared/study-record.js';

/**
 * Readers of one posted record's fields. Each one either returns what the receiver stores, noting
 * in `normalised` a value it had to null or cut (counted in the answer and metrics), or throws a
 * RecordError whose message names the field and the rule — never the value, which may be patient data.
 */
export class RecordError extends Error {}

export interface FieldSource {
  rec: Record<string, unknown>;
  /** Fields whose value was nulled (unusable) or truncated (too long) on the way in. */
  normalised: string[];
}

/** A string (numbers are accepted as their text: the legacy client sends what its driver gave). */
function rawText(src: FieldSource, field: string): string | null {
  const v = src.rec[field];
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  throw new RecordError(`${field} must be a string or null`);
}

/** Free text: blank → null, NULs dropped, over-long → truncated to the column. */
export function freeText(src: FieldSource, field: FreeTextField): string | null {
  const s = cleanText(rawText(src, field));
  if (s === null || !exceedsChars(s, COLUMN_CHARS[field])) return s;
  src.normalised.push(field);
  return truncateChars(s, COLUMN_CHARS[field]);
}

/** An identifier: stored faithfully or not at all. */
export function identifier(src: FieldSource, field: IdentifierField): string | null {
  const s = cleanText(rawText(src, field));
  if (s !== null && exceedsChars(s, COLUMN_CHARS[field])) {
    throw new RecordError(`${field} is longer than ${COLUMN_CHARS[field]} characters`);
  }
  return s;
}

/** An integer, or a string of digits (the legacy client sends "2452"); null when absent. */
function integerOf(src: FieldSource, field: string): number | null {
  const v = src.rec[field];
  if (v === null || v === undefined || v === '') return null;
  const n = typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw new RecordError(`${field} must be an integer or null`);
  return n;
}

/** study_pk, patient_pk (BIGINT): a key that is not a safe non-negative integer is wrong, not messy. */
export function key(src: FieldSource, field: 'study_pk' | 'patient_pk'): number | null {
  const n = integerOf(src, field);
  if (n !== null && (!Number.isSafeInteger(n) || n < 0)) throw new RecordError(`${field} must be an integer from 0 to 2^53-1`);
  return n;
}

/** study_series, study_instances (INT): negative or overflowing → unknown, stored as 0 and counted. */
export function count(src: FieldSource, field: 'study_series' | 'study_instances'): number {
  const c = parseCount(integerOf(src, field));
  if (c.invalid) src.normalised.push(field);
  return c.value ?? 0;
}

/** study_datetime → `YYYY-MM-DD HH:MM:SS`; zero, impossible or unreadable → null, counted. */
export function studyDatetime(src: FieldSource): string | null {
  const p = parseDateTime(rawText(src, 'study_datetime'));
  if (p.invalid) src.normalised.push('study_datetime');
  return p.value === null ? null : p.value.replace('T', ' ');
}

export function birthdate(src: FieldSource): string | null {
  const p = parseBirthdate(rawText(src, 'patient_birthdate'));
  if (p.invalid) src.normalised.push('patient_birthdate');
  return p.value;
}

/** The modalities array, or mods_in_study split; fitted to what the columns can index. */
export function modalities(src: FieldSource, studyModality: string | null): string[] {
  const v = src.rec.modalities;
  let list: string[];
  if (v === null || v === undefined) list = splitModalities(studyModality);
  else if (Array.isArray(v) && v.every((m) => typeof m === 'string')) list = splitModalities(cleanText(v.join('\\')));
  else throw new RecordError('modalities must be an array of strings');
  const fit = fitModalities(list);
  if (fit.changed) src.normalised.push('modalities');
  return fit.modalities;
}

const UID = /^[\x21-\x7e]{1,255}$/;

/** The study_iuid when the record has a usable one, else null. */
export function usableIuid(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  const s = v.replace(/\0/g, '').trim();
  return UID.test(s) ? s : null;
}

export function iuid(src: FieldSource): string {
  if (typeof src.rec.study_iuid !== 'string') throw new RecordError('study_iuid is required (a string)');
  const s = usableIuid(src.rec.study_iuid);
  if (s === null) throw new RecordError('study_iuid must be 1-255 printable ASCII characters');
  return s;
}

export function deletedFlag(src: FieldSource): boolean {
  const v = src.rec.deleted;
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new RecordError('deleted must be a boolean');
  return v;
}

/**
 * The version: required, an integer (or its digits, like every other integer field) from 0 to
 * MAX_SOURCE_SEQ. Above it a centre's floor would leave the agent no room to allocate above
 * (docs/receiver.md, "Versions").
 */
export function sourceSeq(src: FieldSource): number {
  const v = src.rec.source_seq;
  const n = typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || n > MAX_SOURCE_SEQ) {
    throw new RecordError('source_seq is required (an integer from 0 to 2^53-2^32)');
  }
  return n;
}

export function contentHash(src: FieldSource): string | null {
  const v = src.rec.content_hash;
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string' || !CONTENT_HASH_PATTERN.test(v)) throw new RecordError('content_hash must be 32 lowercase hex characters');
  return v;
}
