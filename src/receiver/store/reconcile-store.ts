import type { RowDataPacket } from 'mysql2/promise';
import type { Pool } from './db.js';
import { UNDATED_SORT_AT } from './study-store.js';

export interface ReconcileDay {
  /** YYYY-MM-DD of study_datetime, or 'undated'. */
  day: string;
  /** Live (not deleted) studies that day. */
  count: number;
  /** BIT_XOR of the live studies' digests, as a decimal string ('0' for none). */
  digest: string;
}

/** Days from `from` to `to` (YYYY-MM-DD, both included). */
export interface DayRange {
  from: string;
  to: string;
}

export interface ReconcileStudy {
  study_iuid: string;
  source_seq: number;
  content_hash: string | null;
  deleted: boolean;
}

/**
 * Per-day counts and digests of a centre's live studies: what `indexer reconcile` compares with
 * its own before drilling into a day. Days holding only tombstones are left out (nothing live to
 * compare). Without a range it reads the centre's range of the (center_id, sort_at) index and its
 * rows: a nightly job's cost, not a per-request one; with one, only those days.
 */
export async function reconcileDays(pool: Pool, centerId: number, range?: DayRange): Promise<ReconcileDay[]> {
  // A range (a crawling agent's window of a few days, every pass) reads only those days' rows.
  const within = range ? { sql: ' AND sort_at >= ? AND sort_at < DATE_ADD(?, INTERVAL 1 DAY) AND sort_at <> ?', args: [`${range.from} 00:00:00`, range.to, UNDATED_SORT_AT] } : { sql: '', args: [] };
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT IF(sort_at = ?, NULL, DATE_FORMAT(sort_at, '%Y-%m-%d')) AS day, SUM(deleted = 0) AS n,
       CAST(BIT_XOR(IF(deleted = 0, digest, NULL)) AS CHAR) AS digest
     FROM studies FORCE INDEX (studies_center_date) WHERE center_id = ?${within.sql}
     GROUP BY day HAVING n > 0 ORDER BY day`,
    [UNDATED_SORT_AT, centerId, ...within.args],
  );
  return rows.map((r) => ({ day: r.day === null ? 'undated' : String(r.day), count: Number(r.n), digest: String(r.digest ?? '0') }));
}

/** Every study of a centre on one day (`undated`: without a study date), tombstones included. */
export async function reconcileStudies(pool: Pool, centerId: number, day: string): Promise<ReconcileStudy[]> {
  const range = day === 'undated'
    ? { sql: 'sort_at = ?', args: [UNDATED_SORT_AT] }
    : { sql: 'sort_at >= ? AND sort_at < DATE_ADD(?, INTERVAL 1 DAY) AND sort_at <> ?', args: [`${day} 00:00:00`, day, UNDATED_SORT_AT] };
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT study_iuid, source_seq, content_hash, deleted FROM studies FORCE INDEX (studies_center_date)
     WHERE center_id = ? AND ${range.sql} ORDER BY study_iuid`,
    [centerId, ...range.args],
  );
  return rows.map((r) => ({
    study_iuid: String(r.study_iuid),
    source_seq: Number(r.source_seq),
    content_hash: r.content_hash === null ? null : String(r.content_hash),
    deleted: Number(r.deleted) === 1,
  }));
}

/**
 * The highest source_seq any batch of the centre carried (null: none yet, or only legacy posts).
 * The agent allocates its versions above it, whatever happened to its own state (docs/design.md).
 * Read from center_counts, which ingest maintains in its own transaction: a few rows, no scan.
 */
export async function highestSourceSeq(pool: Pool, centerId: number): Promise<number | null> {
  const [rows] = await pool.query<RowDataPacket[]>(
    'SELECT CAST(MAX(last_source_seq) AS CHAR) AS high FROM center_counts WHERE center_id = ?',
    [centerId],
  );
  const high = rows[0]?.high;
  return high === null || high === undefined ? null : Number(high);
}
