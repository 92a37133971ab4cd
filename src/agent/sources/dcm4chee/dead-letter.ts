import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { StudyRecord } from '../../../shared/study-record.js';
import type { PacsConnection, PacsPool } from './pacs-db.js';

type Queryable = PacsPool | PacsConnection;

export interface DeadLetter {
  record: StudyRecord;
  reason: string;
}

const IN_BATCH = 500;

/**
 * Records the receiver rejected: kept with the reason, so they never block the others. One row
 * per study: a study rejected again (initial --restart, each reconcile) updates its row — the
 * latest record, version and reason — keeping its id and created_at (when it was first rejected);
 * duplicates left by earlier versions of the agent are folded into that row. Runs under the pass lock.
 */
export async function writeDeadLetters(db: Queryable, letters: readonly DeadLetter[]): Promise<void> {
  if (letters.length === 0) return;
  const byIuid = new Map<string, DeadLetter>();
  for (const l of letters) byIuid.set(l.record.study_iuid, l); // the last of a batch wins
  const existing = await existingIds(db, [...byIuid.keys()]);
  const fresh: DeadLetter[] = [];
  for (const [iuid, letter] of byIuid) {
    const id = existing.get(iuid);
    if (id === undefined) fresh.push(letter);
    else {
      await db.query('UPDATE indexer_dead_letter SET study_pk = ?, source_seq = ?, reason = ?, record = ? WHERE id = ?',
        [letter.record.study_pk, letter.record.source_seq, letter.reason.slice(0, 1000), JSON.stringify(letter.record), id]);
    }
  }
  if (fresh.length === 0) return;
  const values = fresh.map((l) => [
    l.record.study_pk,
    Buffer.from(l.record.study_iuid, 'utf8'),
    l.record.source_seq,
    l.reason.slice(0, 1000),
    JSON.stringify(l.record),
  ]);
  const placeholders = values.map(() => '(?, ?, ?, ?, ?, NOW())').join(', ');
  await db.query(
    `INSERT INTO indexer_dead_letter (study_pk, study_iuid, source_seq, reason, record, created_at) VALUES ${placeholders}`,
    values.flat(),
  );
}

/** The oldest dead letter of each of these studies, by iuid; any later duplicate is removed. */
async function existingIds(db: Queryable, iuids: readonly string[]): Promise<Map<string, number>> {
  const kept = new Map<string, number>();
  const extra: number[] = [];
  for (let i = 0; i < iuids.length; i += IN_BATCH) {
    const part = iuids.slice(i, i + IN_BATCH).map((u) => Buffer.from(u, 'utf8'));
    const [rows] = await db.query<RowDataPacket[]>('SELECT id, study_iuid FROM indexer_dead_letter WHERE study_iuid IN (?) ORDER BY id', [part]);
    for (const r of rows) {
      const iuid = Buffer.from(r.study_iuid as Buffer).toString('utf8');
      if (kept.has(iuid)) extra.push(Number(r.id));
      else kept.set(iuid, Number(r.id));
    }
  }
  if (extra.length > 0) await deleteDeadLetters(db, extra);
  return kept;
}

export async function countDeadLetters(db: Queryable): Promise<number> {
  const [rows] = await db.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM indexer_dead_letter');
  return Number(rows[0]?.n ?? 0);
}

export interface StoredDeadLetter {
  id: number;
  study_pk: number | null;
  study_iuid: string | null;
  source_seq: number;
  reason: string;
  created_at: string;
  /** The record as it was sent (patient data): only read when asked for. */
  record?: StudyRecord | null;
}

function parseRecord(text: unknown): StudyRecord | null {
  if (typeof text !== 'string') return null;
  try {
    return JSON.parse(text) as StudyRecord;
  } catch {
    return null;
  }
}

/**
 * Dead letters after id `afterId`, oldest first; only those of `ids` when given. The record
 * column is read only with `withRecord`: a listing carries no patient data by default.
 */
export async function listDeadLetters(
  db: Queryable, opts: { afterId?: number; limit: number; ids?: readonly number[]; withRecord?: boolean },
): Promise<StoredDeadLetter[]> {
  const where = ['id > ?'];
  const params: unknown[] = [opts.afterId ?? 0];
  if (opts.ids) {
    if (opts.ids.length === 0) return [];
    where.push('id IN (?)');
    params.push(opts.ids);
  }
  params.push(opts.limit);
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT id, study_pk, study_iuid, source_seq, reason, DATE_FORMAT(created_at, '%Y-%m-%d %H:%i:%s') AS created_at
       ${opts.withRecord ? ', record' : ''}
     FROM indexer_dead_letter WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`,
    params,
  );
  return rows.map((r) => ({
    id: Number(r.id),
    study_pk: r.study_pk === null ? null : Number(r.study_pk),
    study_iuid: r.study_iuid === null ? null : Buffer.from(r.study_iuid as Buffer).toString('utf8'),
    source_seq: Number(r.source_seq),
    reason: String(r.reason),
    created_at: String(r.created_at),
    ...(opts.withRecord ? { record: parseRecord(r.record) } : {}),
  }));
}

/** Removes the given dead letters (or every one); returns how many were removed. */
export async function deleteDeadLetters(db: Queryable, ids: readonly number[] | 'all'): Promise<number> {
  if (ids === 'all') {
    const [res] = await db.query<ResultSetHeader>('DELETE FROM indexer_dead_letter');
    return res.affectedRows;
  }
  let removed = 0;
  for (let i = 0; i < ids.length; i += 500) {
    const [res] = await db.query<ResultSetHeader>('DELETE FROM indexer_dead_letter WHERE id IN (?)', [ids.slice(i, i + 500)]);
    removed += res.affectedRows;
  }
  return removed;
}

/** A dead letter refused again keeps its place with the receiver's new reason. */
export async function updateDeadLetterReason(db: Queryable, id: number, reason: string): Promise<void> {
  await db.query('UPDATE indexer_dead_letter SET reason = ? WHERE id = ?', [reason.slice(0, 1000), id]);
}

/** Whether any dead letter is kept (one indexed row at most). */
export async function anyDeadLetter(db: Queryable): Promise<boolean> {
  const [rows] = await db.query<RowDataPacket[]>('SELECT 1 AS one FROM indexer_dead_letter LIMIT 1');
  return rows.length > 0;
}

/**
 * Removes the dead letters of studies whose newer version the receiver acknowledged (stored or
 * unchanged): the study was fixed at the PACS and arrived, so its old rejected record is obsolete.
 * By the iuid index, one statement per version and 500 studies.
 */
export async function removeSupersededDeadLetters(db: Queryable, delivered: readonly { study_iuid: string; source_seq: number }[]): Promise<number> {
  const byVersion = new Map<number, Buffer[]>();
  for (const r of delivered) {
    const list = byVersion.get(r.source_seq) ?? [];
    list.push(Buffer.from(r.study_iuid, 'utf8'));
    byVersion.set(r.source_seq, list);
  }
  let removed = 0;
  for (const [version, iuids] of byVersion) {
    for (let i = 0; i < iuids.length; i += IN_BATCH) {
      const [res] = await db.query<ResultSetHeader>('DELETE FROM indexer_dead_letter WHERE study_iuid IN (?) AND source_seq < ?', [iuids.slice(i, i + IN_BATCH), version]);
      removed += res.affectedRows;
    }
  }
  return removed;
}
