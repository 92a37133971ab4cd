import { hashDigest } from '../shared/content-hash.js';
import { familyNameKey, patientKey } from '../shared/patient-key.js';
import { COLUMN_CHARS, exceedsChars, truncateChars } from '../shared/record-limits.js';
import * as f from './record-fields.js';
import { RecordError, type FieldSource } from './record-fields.js';

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

function build(src: FieldSource, seq: number, legacy: boolean): StudyVersion {
  const study_iuid = f.iuid(src);
  const patient_id = f.identifier(src, 'patient_id');
  const patient_name = f.freeText(src, 'patient_name');
  const study_modality = f.freeText(src, 'study_modality');
  // Legacy records never carry one; a v2 record's hash is the agent's, validated for form only.
  const content_hash = legacy ? null : f.contentHash(src);
  return {
    study_iuid,
    source_seq: seq,
    deleted: legacy ? false : f.deletedFlag(src),
    study_pk: f.key(src, 'study_pk'),
    patient_pk: f.key(src, 'patient_pk'),
    patient_id,
    patient_key: patientKeyOf(patient_id),
    patient_id_issuer: f.identifier(src, 'patient_id_issuer'),
    patient_name,
    name_key: nameKeyOf(patient_name),
    patient_birthdate: f.birthdate(src),
    patient_sex: f.freeText(src, 'patient_sex'),
    study_datetime: f.studyDatetime(src),
    study_description: f.freeText(src, 'study_description'),
    study_modality,
    modalities: f.modalities(src, study_modality),
    study_series: f.count(src, 'study_series'),
    study_instances: f.count(src, 'study_instances'),
    accession_no: f.identifier(src, 'accession_no'),
    study_id: f.identifier(src, 'study_id'),
    referring_physician: f.freeText(src, 'referring_physician'),
    content_hash,
    digest: content_hash === null ? null : hashDigest(content_hash),
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
    return build(src, f.sourceSeq(src), false);
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
