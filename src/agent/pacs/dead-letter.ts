import type { RowDataPacket } from 'mysql2/promise';
import type { StudyRecord } from '../../shared/study-record.js';
import type { PacsConnection, PacsPool } from './pacs-db.js';

type Queryable = PacsPool | PacsConnection;

export interface DeadLetter {
  record: StudyRecord;
  reason: string;
}

/** Records the receiver rejected: kept with the reason, so they never block the others. */
export async function writeDeadLetters(db: Queryable, letters: readonly DeadLetter[]): Promise<void> {
  if (letters.length === 0) return;
  const values = letters.map((l) => [
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

export async function countDeadLetters(db: Queryable): Promise<number> {
  const [rows] = await db.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM indexer_dead_letter');
  return Number(rows[0]?.n ?? 0);
}
