import { contentHash, hashDigest } from '../../shared/content-hash.js';
import type { StudyRecord } from '../../shared/study-record.js';
import type { ReceiverDay } from './reconcile-client.js';

/** A day's live studies: how many and the XOR of their hash digests (order-free, incremental). */
export interface DayBucket {
  count: number;
  digest: bigint;
}

/** The day a record is filed under, on both sides: the date part of study_datetime, or "undated". */
export function dayOf(record: Pick<StudyRecord, 'study_datetime'>): string {
  return record.study_datetime ? record.study_datetime.slice(0, 10) : 'undated';
}

export function addToBuckets(buckets: Map<string, DayBucket>, day: string, hash: string): void {
  const b = buckets.get(day);
  if (b) {
    b.count += 1;
    b.digest ^= hashDigest(hash);
  } else {
    buckets.set(day, { count: 1, digest: hashDigest(hash) });
  }
}

export function bucketsOf(records: readonly StudyRecord[]): Map<string, DayBucket> {
  const out = new Map<string, DayBucket>();
  for (const r of records) if (!r.deleted) addToBuckets(out, dayOf(r), contentHash(r));
  return out;
}

/**
 * The receiver accepts study dates from year 1000 on (it rejects the record otherwise, so such a
 * study is a dead letter, not drift); it answers 400 when asked for an earlier day.
 */
export function receivableDay(day: string): boolean {
  return day === 'undated' || day >= '1000-01-01';
}

export interface DayComparison {
  /** Days present on either side. */
  compared: number;
  /** Days whose count or digest differ (one-sided days included), sorted, "undated" last. */
  differing: string[];
}

export function compareDays(source: ReadonlyMap<string, DayBucket>, receiver: readonly ReceiverDay[]): DayComparison {
  const theirs = new Map(receiver.map((d) => [d.day, d]));
  const days = new Set([...source.keys(), ...theirs.keys()]);
  const differing: string[] = [];
  for (const day of days) {
    const a = source.get(day);
    const b = theirs.get(day);
    if ((a?.count ?? 0) !== (b?.count ?? 0) || (a?.digest ?? 0n) !== (b?.digest ?? 0n)) differing.push(day);
  }
  // ISO dates sort as text; "undated" sorts after every digit.
  differing.sort();
  return { compared: days.size, differing };
}
