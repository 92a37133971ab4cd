import { randomBytes } from 'node:crypto';
import type { RowDataPacket } from 'mysql2/promise';
import type { PacsConnection, PacsPool } from './pacs-db.js';
import { queueCounter } from './change-queue.js';
import { readNumberState, readState, STATE, writeStates } from './state-store.js';

type Queryable = PacsPool | PacsConnection;

/**
 * The queue's generation: a marker row the agent keeps in study_service at a position no change
 * takes (seq -1, op 'G', its token in study_iuid), with the same token in indexer_state. TRUNCATE,
 * DROP + CREATE or a DELETE of every row removes it, so a missing marker says the changes queued
 * then are gone, however far the counter has grown since. Never decided from clocks: an
 * acknowledgement and a reconcile can fall in the same second, and are written at different
 * resolutions (issue 18).
 */
export const MARKER_SEQ = -1;
const MARKER_OP = 'G';

export interface QueueReset {
  /** The queue's next position when the reset was found (null when the server does not say). */
  counter: number | null;
  /** The highest position acknowledged before the reset. */
  acked: number;
  /** How it was found: the marker is gone, or (no marker written yet) the counter fell below `acked`. */
  found: 'marker' | 'counter';
}

async function markerPresent(db: Queryable, token: string): Promise<boolean> {
  const [rows] = await db.query<RowDataPacket[]>(
    'SELECT 1 AS ok FROM study_service WHERE seq = ? AND op = ? AND study_iuid = ?',
    [MARKER_SEQ, MARKER_OP, token],
  );
  return rows.length > 0;
}

export async function findQueueReset(db: Queryable): Promise<QueueReset | null> {
  const acked = (await readNumberState(db, STATE.lastAckSeq)) ?? 0;
  const token = await readState(db, STATE.queueGeneration);
  if (token) {
    if (await markerPresent(db, token)) return null;
    return { counter: await queueCounter(db), acked, found: 'marker' };
  }
  // Queues from before the marker: a truncation restarts the counter below what was acknowledged.
  const counter = await queueCounter(db);
  if (counter === null || acked === 0 || counter > acked) return null;
  return { counter, acked, found: 'counter' };
}

async function writeMarker(db: Queryable, ackedThrough: number | null): Promise<void> {
  const token = randomBytes(8).toString('hex');
  await db.query('DELETE FROM study_service WHERE seq = ?', [MARKER_SEQ]);
  await db.query('INSERT INTO study_service (seq, study_pk, op, study_iuid, queued_at) VALUES (?, 0, ?, ?, NOW())', [MARKER_SEQ, MARKER_OP, token]);
  await writeStates(db, { [STATE.queueGeneration]: token, ...(ackedThrough === null ? {} : { [STATE.lastAckSeq]: ackedThrough }) });
}

/**
 * Gives a queue that has none its generation marker (a first pass, or an agent upgraded from a
 * version without it), unless the queue already looks reset: that stays for `check` to report.
 * Runs under the pass lock.
 */
export async function ensureQueueGeneration(db: Queryable): Promise<void> {
  if (await readState(db, STATE.queueGeneration)) return;
  if (await findQueueReset(db)) return;
  await writeMarker(db, null);
}

/**
 * After a repairing reconcile that started once the queue had been reset (`reset`, read at its
 * start, under the pass lock), the agent adopts the queue's new generation: what was lost before
 * that start has been compared and re-sent. A new marker is written, and the acknowledged position
 * moves to just below the counter seen then, so a later reset is found again.
 */
export async function adoptQueueGeneration(db: Queryable, reset: QueueReset): Promise<void> {
  await writeMarker(db, reset.counter === null ? null : Math.min(reset.acked, Math.max(0, reset.counter - 1)));
}
