import { randomBytes } from 'node:crypto';
import type { RowDataPacket } from 'mysql2/promise';
import type { ReconcileMark } from '../study-source.js';
import type { PacsQueryable } from './pacs-db.js';
import { writeState } from './state-store.js';

/** indexer_state name of the "reconcile needed" mark (JSON text, docs/reconcile.md). */
export const RECONCILE_NEEDED = 'reconcile.needed';

/** The mark as stored (its exact text: a reconcile clears only the text it read at its start). */
export async function readReconcileMarkText(db: PacsQueryable): Promise<string | null> {
  const [rows] = await db.query<RowDataPacket[]>('SELECT value FROM indexer_state WHERE name = ?', [RECONCILE_NEEDED]);
  const v = rows[0]?.value;
  return v === undefined || v === null || v === '' ? null : String(v);
}

export function parseReconcileMark(text: string | null): ReconcileMark | null {
  if (text === null) return null;
  try {
    const v = JSON.parse(text) as Partial<ReconcileMark>;
    return { why: String(v.why ?? 'unknown'), at: String(v.at ?? ''), token: String(v.token ?? text) };
  } catch {
    return { why: text, at: '', token: text };
  }
}

/** Sets (or renews, with a new token) the mark: a reconcile already running no longer clears it. */
export async function writeReconcileMark(db: PacsQueryable, why: string): Promise<void> {
  const mark: ReconcileMark = { why, at: new Date().toISOString(), token: randomBytes(8).toString('hex') };
  await writeState(db, RECONCILE_NEEDED, JSON.stringify(mark));
}

/** Clears the mark only if it is still the one read at the reconcile's start (one statement). */
export async function clearReconcileMark(db: PacsQueryable, seenText: string): Promise<boolean> {
  const [res] = await db.query('UPDATE indexer_state SET value = NULL, updated_at = NOW() WHERE name = ? AND value = ?', [RECONCILE_NEEDED, seenText]);
  return ((res as { affectedRows?: number }).affectedRows ?? 0) > 0;
}
