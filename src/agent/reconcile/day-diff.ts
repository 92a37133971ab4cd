import { contentHash } from '../../shared/content-hash.js';
import type { StudyRecord } from '../../shared/study-record.js';
import type { ReceiverStudy } from './reconcile-client.js';

/** How one day of the source differs from the same day at the receiver. */
export interface DayDiff {
  /** Source records the receiver lacks (or holds only as a tombstone). */
  missing: StudyRecord[];
  /** Source records the receiver holds with another content hash (older or altered). */
  different: StudyRecord[];
  /**
   * iuids the receiver holds live on this day that the source does not have on this day: deleted
   * at the source, or moved to another day (a corrected date). The caller looks them up.
   */
  absent: string[];
}

export function diffDay(source: readonly StudyRecord[], receiver: readonly ReceiverStudy[]): DayDiff {
  const held = new Map(receiver.map((s) => [s.study_iuid, s]));
  const out: DayDiff = { missing: [], different: [], absent: [] };
  const here = new Set<string>();
  for (const record of source) {
    here.add(record.study_iuid);
    const theirs = held.get(record.study_iuid);
    if (!theirs || theirs.deleted) out.missing.push(record);
    else if (theirs.content_hash !== contentHash(record)) out.different.push(record);
  }
  for (const s of receiver) if (!s.deleted && !here.has(s.study_iuid)) out.absent.push(s.study_iuid);
  return out;
}
