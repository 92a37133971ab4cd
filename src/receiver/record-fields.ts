import { CONTENT_HASH_PATTERN } from '../shared/content-hash.js';
import {
  COLUMN_CHARS, MAX_SOURCE_SEQ, exceedsChars, fitModalities, truncateChars, type FreeTextField, type IdentifierField,
} from '../shared/record-limits.js';
import { cleanText, parseBirthdate, parseCount, parseDateTime, parseIntegerText } from '../shared/record-values.js';
import { splitModalities, type FieldKind, type FieldName, type FieldOfKind } from '../shared/study-record.js';

/**
 * Readers of one posted record's fields, one per kind of field (shared/study-record.ts). Each one
 * either returns what the receiver stores, noting in `normalised` a value it had to null or cut
 * (counted in the answer and metrics), or throws a RecordError whose message names the field and
 * the rule — never the value, which may be patient data.
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

/**
 * An integer, or its ASCII digits as a string (the legacy client sends "2452"); null when absent.
 * A string must be exactly digits (parseIntegerText): `" 5"`, `"5\u00a0"`, `"+5"`, `"0x10"`, `"1e2"`
 * are not integers. `-` is read where a negative value means something (a count: unknown).
 */
function integerOf(src: FieldSource, field: string, allowMinus: boolean): number | null {
  const v = src.rec[field];
  if (v === null || v === undefined || v === '') return null;
  const n = typeof v === 'string' ? parseIntegerText(v, allowMinus) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw new RecordError(`${field} must be an integer or null`);
  return n;
}

/** study_pk, patient_pk (BIGINT): a key that is not a safe non-negative integer is wrong, not messy. */
export function key(src: FieldSource, field: FieldOfKind<'key'>): number | null {
  const n = integerOf(src, field, false);
  if (n !== null && (!Number.isSafeInteger(n) || n < 0 || Object.is(n, -0))) throw new RecordError(`${field} must be an integer from 0 to 2^53-1`);
  return n;
}

/**
 * study_series, study_instances (INT NULL): null, absent or '' → null ("the source cannot tell");
 * negative or overflowing → unknown too, null and counted. Never a made-up 0.
 */
export function count(src: FieldSource, field: FieldOfKind<'count'>): number | null {
  const c = parseCount(integerOf(src, field, true));
  if (c.invalid) src.normalised.push(field);
  return c.value;
}

/** A datetime → `YYYY-MM-DD HH:MM:SS`; zero, impossible or unreadable → null, counted. */
export function datetime(src: FieldSource, field: FieldOfKind<'datetime'>): string | null {
  const p = parseDateTime(rawText(src, field));
  if (p.invalid) src.normalised.push(field);
  return p.value === null ? null : p.value.replace('T', ' ');
}

export function date(src: FieldSource, field: FieldOfKind<'date'>): string | null {
  const p = parseBirthdate(rawText(src, field));
  if (p.invalid) src.normalised.push(field);
  return p.value;
}

/** The modalities array, or mods_in_study split; fitted to what the columns can index. */
export function modalities(src: FieldSource, field: FieldOfKind<'modalities'>, studyModality: string | null): string[] {
  const v = src.rec[field];
  let list: string[];
  if (v === null || v === undefined) list = splitModalities(studyModality);
  else if (Array.isArray(v) && v.every((m) => typeof m === 'string')) list = splitModalities(cleanText(v.join('\\')));
  else throw new RecordError(`${field} must be an array of strings`);
  const fit = fitModalities(list);
  if (fit.changed) src.normalised.push(field);
  return fit.modalities;
}

const UID = new RegExp(`^[\\x21-\\x7e]{1,${COLUMN_CHARS.study_iuid}}$`);

/** The study_iuid when the record has a usable one, else null. */
export function usableIuid(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  const s = v.replace(/\0/g, '').trim();
  return UID.test(s) ? s : null;
}

export function iuid(src: FieldSource, field: FieldOfKind<'uid'>): string {
  if (typeof src.rec[field] !== 'string') throw new RecordError(`${field} is required (a string)`);
  const s = usableIuid(src.rec[field]);
  if (s === null) throw new RecordError(`${field} must be 1-${COLUMN_CHARS[field]} printable ASCII characters`);
  return s;
}

export function deletedFlag(src: FieldSource, field: FieldOfKind<'deleted'>): boolean {
  const v = src.rec[field];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new RecordError(`${field} must be a boolean`);
  return v;
}

/**
 * The version: required, an integer (or its ASCII digits, like every other integer field) from 0 to
 * MAX_SOURCE_SEQ. Above it a centre's floor would leave the agent no room to allocate above
 * (docs/receiver.md, "Versions"). JSON `-0` is refused like the text "-0": a version has no sign.
 */
export function sourceSeq(src: FieldSource, field: FieldOfKind<'version'>): number {
  const v = src.rec[field];
  const n = typeof v === 'string' ? parseIntegerText(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || Object.is(n, -0) || n > MAX_SOURCE_SEQ) {
    throw new RecordError(`${field} is required (an integer from 0 to 2^53-2^32)`);
  }
  return n;
}

export function contentHash(src: FieldSource, field: FieldOfKind<'hash'>): string | null {
  const v = src.rec[field];
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string' || !CONTENT_HASH_PATTERN.test(v)) throw new RecordError(`${field} must be 32 lowercase hex characters`);
  return v;
}

/** The values read so far of one record (fields before the current one in declaration order). */
export type ReadSoFar = Readonly<Partial<Record<FieldName, unknown>>>;

type Reader = (src: FieldSource, field: FieldName, earlier: ReadSoFar) => unknown;

/**
 * The reader of each kind of stored field. The centre is checked against the URL, not stored as
 * such; the version comes from the route (v2: the record's, checked first; legacy: arrival time).
 */
export const READERS: Record<Exclude<FieldKind, 'center' | 'version'>, Reader> = {
  uid: (src, field) => iuid(src, field as FieldOfKind<'uid'>),
  key: (src, field) => key(src, field as FieldOfKind<'key'>),
  identifier: (src, field) => identifier(src, field as IdentifierField),
  text: (src, field) => freeText(src, field as FreeTextField),
  date: (src, field) => date(src, field as FieldOfKind<'date'>),
  datetime: (src, field) => datetime(src, field as FieldOfKind<'datetime'>),
  // A record without the list has it from mods_in_study, read (and cut) before it.
  modalities: (src, field, earlier) => modalities(src, field as FieldOfKind<'modalities'>, (earlier.study_modality as string | null | undefined) ?? null),
  count: (src, field) => count(src, field as FieldOfKind<'count'>),
  deleted: (src, field) => deletedFlag(src, field as FieldOfKind<'deleted'>),
  hash: (src, field) => contentHash(src, field as FieldOfKind<'hash'>),
};
