import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { PacsConnection, PacsPool } from './pacs-db.js';

type Queryable = PacsPool | PacsConnection;

export interface QueueRow {
  seq: number;
  study_pk: number;
  op: 'I' | 'U' | 'D' | string;
  /** The deleted study's iuid, raw bytes (set by the delete trigger). */
  study_iuid: Buffer | null;
}

/** Rows deleted per statement: short statements keep row locks brief for the PACS's inserts. */
const DELETE_BATCH = 500;

/**
 * The next rows of the queue after `afterSeq` (up to `maxSeq`), in seq order. A pass starts at 0,
 * not at the last acknowledged seq: acknowledged rows are deleted, and a lower seq committed late
 * must still be read (docs/design.md).
 */
export async function readQueueChunk(db: Queryable, afterSeq: number, maxSeq: number, limit: number): Promise<QueueRow[]> {
  const [rows] = await db.query<RowDataPacket[]>(
    'SELECT seq, study_pk, op, study_iuid FROM study_service WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?',
    [afterSeq, maxSeq, limit],
  );
  return rows.map((r) => ({
    seq: Number(r.seq),
    study_pk: Number(r.study_pk),
    op: String(r.op),
    study_iuid: r.study_iuid === null ? null : Buffer.from(r.study_iuid as Buffer),
  }));
}

/** Deletes exactly the given rows (never a range), in small statements. */
export async function deleteQueueRows(db: Queryable, seqs: readonly number[]): Promise<number> {
  let deleted = 0;
  for (let i = 0; i < seqs.length; i += DELETE_BATCH) {
    const part = seqs.slice(i, i + DELETE_BATCH);
    const [res] = await db.query<ResultSetHeader>('DELETE FROM study_service WHERE seq IN (?)', [part]);
    deleted += res.affectedRows;
  }
  return deleted;
}

export async function maxQueueSeq(db: Queryable): Promise<number> {
  const [rows] = await db.query<RowDataPacket[]>('SELECT COALESCE(MAX(seq), 0) AS s FROM study_service WHERE seq > 0');
  return Number(rows[0]?.s ?? 0);
}

export async function queueBacklog(db: Queryable): Promise<number> {
  const [rows] = await db.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM study_service WHERE seq > 0');
  return Number(rows[0]?.n ?? 0);
}

/**
 * Deletes the rows visible now with seq <= maxSeq, by primary key, chunk by chunk — except
 * deletions: a walk of `study` cannot see a study that is gone, and the receiver may still hold it
 * (`initial --restart`, a centre moving from the legacy indexer), so its tombstone stays queued.
 */
export async function pruneQueueThrough(db: Queryable, maxSeq: number, chunk = 1000): Promise<number> {
  let total = 0;
  let after = 0;
  for (;;) {
    const [rows] = await db.query<RowDataPacket[]>(
      "SELECT seq FROM study_service WHERE seq > ? AND seq <= ? AND op <> 'D' ORDER BY seq LIMIT ?",
      [after, maxSeq, chunk],
    );
    if (rows.length === 0) return total;
    const seqs = rows.map((r) => Number(r.seq));
    total += await deleteQueueRows(db, seqs);
    after = seqs[seqs.length - 1]!;
  }
}

/**
 * The queue's next AUTO_INCREMENT value (null when the server does not say), to notice a queue
 * truncated or recreated by hand: its counter then starts again below positions the agent already
 * acknowledged. MySQL 8 caches this figure unless told not to.
 */
export async function queueCounter(db: Queryable): Promise<number | null> {
  await db.query('SET SESSION information_schema_stats_expiry = 0').catch(() => undefined);
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT AUTO_INCREMENT AS next_seq FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'study_service'`,
  );
  const v = rows[0]?.next_seq;
  return v === null || v === undefined ? null : Number(v);
}

export interface QueueEntry {
  seq: number;
  study_pk: number;
  op: string;
  /** Set for deletions only (the delete trigger keeps it): an identifier, not patient data. */
  study_iuid: string | null;
  queued_at: string | null;
}

export interface QueueOverview {
  total: number;
  /** Changes per kind: I (insert), U (update), D (delete). */
  by_kind: Record<string, number>;
  oldest_queued_at: string | null;
  /** Seconds since the oldest change was queued, by the database's clock. */
  oldest_age_s: number | null;
}

/** Counts by kind and the oldest change's age; positions <= 0 are the agent's markers, not changes. */
export async function queueOverview(db: Queryable): Promise<QueueOverview> {
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT op, COUNT(*) AS n, DATE_FORMAT(MIN(queued_at), '%Y-%m-%d %H:%i:%s') AS oldest, TIMESTAMPDIFF(SECOND, MIN(queued_at), NOW()) AS age
     FROM study_service WHERE seq > 0 GROUP BY op ORDER BY op`,
  );
  const overview: QueueOverview = { total: 0, by_kind: { I: 0, U: 0, D: 0 }, oldest_queued_at: null, oldest_age_s: null };
  for (const r of rows) {
    const n = Number(r.n);
    overview.total += n;
    overview.by_kind[String(r.op)] = n;
    const oldest = r.oldest === null ? null : String(r.oldest);
    if (oldest !== null && (overview.oldest_queued_at === null || oldest < overview.oldest_queued_at)) {
      overview.oldest_queued_at = oldest;
      overview.oldest_age_s = r.age === null ? null : Number(r.age);
    }
  }
  return overview;
}

/** The oldest `limit` changes, in queue order. */
export async function listQueue(db: Queryable, limit: number): Promise<QueueEntry[]> {
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT seq, study_pk, op, study_iuid, DATE_FORMAT(queued_at, '%Y-%m-%d %H:%i:%s') AS queued_at
     FROM study_service WHERE seq > 0 ORDER BY seq LIMIT ?`,
    [limit],
  );
  return rows.map((r) => ({
    seq: Number(r.seq),
    study_pk: Number(r.study_pk),
    op: String(r.op),
    study_iuid: r.study_iuid === null ? null : Buffer.from(r.study_iuid as Buffer).toString('latin1'),
    queued_at: r.queued_at === null ? null : String(r.queued_at),
  }));
}
