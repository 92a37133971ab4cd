import { hashDigest } from '../shared/content-hash.js';
import { familyNameKey, patientKey } from '../shared/patient-key.js';
import { COLUMN_CHARS, exceedsChars, truncateChars } from '../shared/record-limits.js';
import { STORED_FIELDS, type FieldKind, type StoredField, type StudyRecord } from '../shared/study-record.js';
import * as f from './record-fields.js';
import { READERS, RecordError, type FieldSource } from './record-fields.js';

/**
 * One validated study version, ready for the store: every field with a column (shared/study-record.ts),
 * dates in MySQL form (`YYYY-MM-DD HH:MM:SS`), an absent extra as null; and the columns the
 * receiver derives from them.
 */
export type StudyVersion = {
  [N in StoredField]-?: Exclude<StudyRecord[N], undefined> | (undefined extends StudyRecord[N] ? null : never);
} & {
  /** patientKey(patient_id): the search key across RUT spellings. */
  patient_key: string | null;
  /** familyNameKey(patient_name), cut to its column: the name-prefix search key. */
  name_key: string | null;
  /** hashDigest(content_hash) (60 bits, a BIGINT for the database); null when absent. */
  digest: bigint | null;
};

/**
 * A record the receiver stores (with the fields it had to null or truncate, counted) or rejects
 * alone, with a reason naming the field and the rule, never the value.
 */
export type Validated =
  | { ok: true; version: StudyVersion; normalised: string[] }
  | { ok: false; study_iuid: string | null; reason: string };

/**
 * Legacy records carry no version: they get one from the time they arrive, offset far below zero so
 * that a later legacy post replaces an earlier one, while any agent (v2) version, always >= 0, wins.
 */
export const LEGACY_SEQ_OFFSET = 2 ** 52;
export function legacySourceSeq(nowMs: number): number {
  return nowMs - LEGACY_SEQ_OFFSET;
}

/** Names repeat across a centre's batches (one patient, many studies): folding is memoised. */
const nameKeys = new Map<string, string | null>();
function nameKeyOf(name: string | null): string | null {
  if (name === null) return null;
  let k = nameKeys.get(name);
  if (k === undefined) {
    // A prefix-search key: cut to its column it still finds every name it began with.
    const folded = familyNameKey(name);
    k = folded === null ? null : truncateChars(folded, COLUMN_CHARS.name_key);
    if (nameKeys.size >= 50_000) nameKeys.clear();
    nameKeys.set(name, k);
  }
  return k;
}

/** Upper-casing can lengthen an ID (`ß` → `SS`): a key that does not fit would match the wrong patient. */
function patientKeyOf(patientId: string | null): string | null {
  const k = patientKey(patientId);
  if (k !== null && exceedsChars(k, COLUMN_CHARS.patient_key)) {
    throw new RecordError(`patient_id is longer than ${COLUMN_CHARS.patient_key} characters once upper-cased`);
  }
  return k;
}

/** Legacy records carry no tombstone and no fingerprint. */
const LEGACY_VALUES: Partial<Record<FieldKind, unknown>> = { deleted: false, hash: null };

function build(src: FieldSource, seq: number, legacy: boolean): StudyVersion {
  const v: Partial<Record<StoredField, unknown>> = {};
  for (const field of STORED_FIELDS) {
    const kind = field.kind;
    if (kind === 'version') v[field.name] = seq;
    else if (legacy && kind in LEGACY_VALUES) v[field.name] = LEGACY_VALUES[kind];
    else if (kind !== 'center') v[field.name] = READERS[kind](src, field.name, v);
  }
  const version = v as Omit<StudyVersion, 'patient_key' | 'name_key' | 'digest'>;
  return {
    ...version,
    patient_key: patientKeyOf(version.patient_id),
    name_key: nameKeyOf(version.patient_name),
    digest: version.content_hash === null ? null : hashDigest(version.content_hash),
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function validate(raw: unknown, check: (src: FieldSource) => StudyVersion): Validated {
  try {
    if (!isObject(raw)) throw new RecordError('record must be a JSON object');
    const src: FieldSource = { rec: raw, normalised: [] };
    const version = check(src);
    return { ok: true, version, normalised: src.normalised };
  } catch (err) {
    if (!(err instanceof RecordError)) throw err;
    return { ok: false, study_iuid: isObject(raw) ? f.usableIuid(raw.study_iuid) : null, reason: err.message };
  }
}

/** Validates one v2 record posted for `center` (its own `center`, when given, must be that string). */
export function validateRecord(raw: unknown, center: string): Validated {
  return validate(raw, (src) => {
    const own = src.rec.center;
    if (own !== undefined && own !== null) {
      if (typeof own !== 'string') throw new RecordError('center must be a string');
      if (own !== center) throw new RecordError('center does not match the URL');
    }
    return build(src, f.sourceSeq(src, 'source_seq'), false);
  });
}

/**
 * The legacy client posts Python's `str(None)`, `"None"`, for every null: on the legacy route that
 * exact text means null in any field (else `NONE` would become a patient key linking strangers, and
 * a count or key would reject the record). The v2 route keeps it literal: the agent sends real nulls.
 * fromEntries defines own properties, so no key can reach a prototype.
 */
export function withLegacyNulls(raw: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, v === 'None' ? null : v]));
}

/** Validates one legacy (v1) record; its version comes from `nowMs` (see legacySourceSeq). */
export function validateLegacyRecord(raw: Record<string, unknown>, nowMs: number): Validated {
  return validate(raw, (src) => build(src, legacySourceSeq(nowMs), true));
}
