import { DECLARED_FIELDS, fieldsOfKind, type FieldOfKind, type SizedField, type StudyRecord } from './study-record.js';

/**
 * What the receiver can store of a record: its column sizes (sql/receiver) in characters — the
 * columns are utf8mb4 VARCHAR (a character is a code point, up to 4 bytes) or ASCII (one byte
 * each). Values are checked against them after normalisation: the patient key is upper-cased
 * (`ß` → `SS`) and the name key folded, which can make them longer than the raw value. The agent
 * fits free text before sending (what it sends is what gets stored, hash included); the receiver
 * applies the same rules to whatever arrives. The fields' sizes are declared with the record.
 */
export const COLUMN_CHARS = {
  ...(Object.fromEntries(DECLARED_FIELDS.filter((f) => f.chars !== undefined).map((f) => [f.name, f.chars])) as Record<SizedField, number>),
  /** The receiver's search keys of patient_id and patient_name. */
  patient_key: 255,
  name_key: 255,
  /** One modality (study_modalities.modality, ASCII). */
  modality: 16,
};

/**
 * The highest version (source_seq) the receiver stores: 2^53 − 2^32, so that a centre's version
 * floor always leaves the agent 2^32 versions to allocate above it within the integers a JSON
 * number holds exactly. A higher one is rejected at the receiver and refused as a floor by the agent.
 */
export const MAX_SOURCE_SEQ = 2 ** 53 - 2 ** 32;

/**
 * The room the agent needs above a centre's version floor: a floor above MAX_VERSION_FLOOR
 * (MAX_SOURCE_SEQ − 2^31) is refused before anything is sent, so the agent never allocates a
 * version the receiver rejects (docs/agent.md, "Absurd versions").
 */
export const SOURCE_SEQ_HEADROOM = 2 ** 31;
export const MAX_VERSION_FLOOR = MAX_SOURCE_SEQ - SOURCE_SEQ_HEADROOM;

/** Free text: an over-long value is truncated to its column, stored and counted. */
export const FREE_TEXT_FIELDS = fieldsOfKind('text');
export type FreeTextField = FieldOfKind<'text'>;

/** Identifiers: an over-long value rejects the record (a cut identifier would name someone else). */
export const IDENTIFIER_FIELDS = fieldsOfKind('identifier');
export type IdentifierField = FieldOfKind<'identifier'>;

/** More than `max` code points (UTF-16 length is never below the code point count: short values are quick). */
export function exceedsChars(text: string, max: number): boolean {
  if (text.length <= max) return false;
  let n = 0;
  for (const _ of text) if (++n > max) return true;
  return false;
}

/** The first `max` code points, without splitting a surrogate pair or walking a huge string whole. */
export function truncateChars(text: string, max: number): string {
  if (!exceedsChars(text, max)) return text;
  let n = 0;
  let end = 0;
  for (const ch of text) {
    if (n === max) break;
    n += 1;
    end += ch.length;
  }
  return text.slice(0, end);
}

const MODALITY = new RegExp(`^[\\x20-\\x7e]{1,${COLUMN_CHARS.modality}}$`);

/**
 * The modalities the receiver can index: 1–16 printable ASCII characters each (others could never
 * match a search) and, joined with `\`, within their column; those that no longer fit are dropped.
 * `changed` says something was dropped (counted).
 */
export function fitModalities(list: readonly string[]): { modalities: string[]; changed: boolean } {
  const out: string[] = [];
  let length = -1;
  for (const m of list) {
    if (!MODALITY.test(m) || length + 1 + m.length > COLUMN_CHARS.modalities) continue;
    out.push(m);
    length += 1 + m.length;
  }
  return { modalities: out, changed: out.length !== list.length };
}

/**
 * The agent's side: free text truncated to its column and modalities fitted, in place, so the
 * record sent (and hashed) is the record stored. Returns the fields it changed (counted).
 * Identifiers are left alone: the receiver rejects them and the agent keeps a dead letter.
 */
export function fitRecordToColumns(record: StudyRecord): string[] {
  const changed: string[] = [];
  for (const field of FREE_TEXT_FIELDS) {
    const v = record[field];
    if (v !== null && exceedsChars(v, COLUMN_CHARS[field])) {
      record[field] = truncateChars(v, COLUMN_CHARS[field]);
      changed.push(field);
    }
  }
  const fit = fitModalities(record.modalities);
  if (fit.changed) {
    record.modalities = fit.modalities;
    changed.push('modalities');
  }
  return changed;
}
