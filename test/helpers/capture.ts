import type mysql from 'mysql2/promise';
import { installCapture, type InstallResult } from '../../src/agent/sources/dcm4chee/capture-objects.js';
import { createLogger } from '../../src/shared/logger.js';
import type { TestDatabase } from './mysql.js';

export const silentLog = createLogger({ level: 'silent' });

/** Installs the capture objects (queue, state, triggers) into a test pacsdb. */
export function installCaptureForTest(db: TestDatabase): Promise<InstallResult> {
  return installCapture(db.conn, db.name, silentLog);
}

export interface QueueEntry {
  seq: number;
  study_pk: number;
  op: 'I' | 'U' | 'D';
  study_iuid: string | null;
}

/** The queue's rows in order, iuid decoded (the column is VARBINARY holding latin1 bytes). */
export async function queueEntries(conn: mysql.Connection): Promise<QueueEntry[]> {
  interface Row extends mysql.RowDataPacket { seq: number; study_pk: number; op: 'I' | 'U' | 'D'; study_iuid: Buffer | null }
  const [rows] = await conn.query<Row[]>('SELECT seq, study_pk, op, study_iuid FROM study_service WHERE seq > 0 ORDER BY seq');
  return rows.map((r) => ({ seq: Number(r.seq), study_pk: Number(r.study_pk), op: r.op, study_iuid: r.study_iuid === null ? null : r.study_iuid.toString('latin1') }));
}

/** Reads and empties the queue: each step of a test then sees only its own entries. */
export async function takeQueue(conn: mysql.Connection): Promise<Array<Pick<QueueEntry, 'study_pk' | 'op' | 'study_iuid'>>> {
  const entries = await queueEntries(conn);
  await conn.query('DELETE FROM study_service WHERE seq > 0');
  return entries.map(({ study_pk, op, study_iuid }) => ({ study_pk, op, study_iuid }));
}
