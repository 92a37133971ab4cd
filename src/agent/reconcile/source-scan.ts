import { contentHash } from '../../shared/content-hash.js';
import type { PacsPool } from '../pacs/pacs-db.js';
import { readStudiesAfter } from '../pacs/study-reader.js';
import { emptyConversionStats, mapStudyRow } from '../record/study-mapper.js';
import { throwIfStopped } from '../pipeline/run-pass.js';
import { addToBuckets, dayOf, type DayBucket } from './day-buckets.js';

/** The source side of the comparison, from one walk of `study`. */
export interface SourceScan {
  buckets: Map<string, DayBucket>;
  /**
   * Primary keys of the undated studies: no DATETIME range finds them again (NULL, zero and
   * impossible dates), so the walk keeps them. Usually few; only pks, to keep memory small.
   */
  undatedPks: number[];
  studies: number;
}

/**
 * Walks `study` in primary-key chunks (READ COMMITTED, one chunk in memory at a time), mapping
 * every row exactly as sync does and filing its content hash under its day.
 */
export async function scanSource(pool: PacsPool, center: string, chunk: number, signal: AbortSignal): Promise<SourceScan> {
  const buckets = new Map<string, DayBucket>();
  const undatedPks: number[] = [];
  const stats = emptyConversionStats();
  let studies = 0;
  let after = 0;
  for (;;) {
    throwIfStopped(signal);
    const rows = await readStudiesAfter(pool, after, chunk);
    if (rows.length === 0) break;
    after = Number(rows[rows.length - 1]!.study_pk);
    for (const row of rows) {
      const record = mapStudyRow(row, center, 0, stats);
      if (!record) continue;
      studies += 1;
      const day = dayOf(record);
      if (day === 'undated') undatedPks.push(Number(row.study_pk));
      addToBuckets(buckets, day, contentHash(record));
    }
  }
  return { buckets, undatedPks, studies };
}
