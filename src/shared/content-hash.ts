import { createHash } from 'node:crypto';
import { DECLARED_FIELDS, type HashedField, type StudyRecord } from './study-record.js';

/**
 * A fingerprint of what a record says about a study, independent of its version: reconciliation
 * compares these between a centre and the receiver without shipping the records. The agent sends
 * it as the extra record field `content_hash`; the receiver stores it beside the study. It covers
 * the fields declared with a place in the hash (study-record.ts: `hash`), in that order.
 */
export const HASHED_FIELDS: readonly HashedField[] = DECLARED_FIELDS.filter((f) => f.hash !== undefined)
  .sort((a, b) => (a.hash ?? 0) - (b.hash ?? 0))
  .map((f) => f.name as HashedField);

/** 32 hex characters (128 bits of SHA-256 over the canonical JSON of the hashed fields). */
export function contentHash(record: Pick<StudyRecord, HashedField>): string {
  const canonical = JSON.stringify(HASHED_FIELDS.map((f) => record[f] ?? null));
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}

/**
 * The 60-bit integer a hash contributes to a bucket digest (BIT_XOR of these per day): small
 * enough for a signed BIGINT on every MySQL-compatible engine, TiDB and Vitess included.
 */
export function hashDigest(hash: string): bigint {
  return BigInt(`0x${hash.slice(0, 15)}`);
}

export const CONTENT_HASH_PATTERN = /^[0-9a-f]{32}$/;

/** The record as sent by the v2 protocol: with its fingerprint. */
export function withContentHash(record: StudyRecord): StudyRecord {
  return { ...record, content_hash: contentHash(record) };
}
