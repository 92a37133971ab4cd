import type { RowDataPacket } from 'mysql2/promise';
import { checkAllocatedVersion } from '../../delivery/version-floor.js';
import type { PacsConnection, PacsPool } from './pacs-db.js';

type Queryable = PacsPool | PacsConnection;

/** indexer_state names (docs/design.md). */
export const STATE = {
  schemaVersion: 'schema_version',
  versionHigh: 'version_high',
  lastAckSeq: 'sync.last_ack_seq',
  /** The token of the queue's generation marker (pacs/queue-generation.ts). */
  queueGeneration: 'queue.generation',
  initialStartSeq: 'initial.start_seq',
  initialStartedAt: 'initial.started_at',
  initialLastPk: 'initial.last_pk',
  initialDone: 'initial.done',
  initialTotal: 'initial.total',
  lastRun: 'last_run',
  lastError: 'last_error',
} as const;

export async function readAllState(db: Queryable): Promise<Map<string, string | null>> {
  const [rows] = await db.query<RowDataPacket[]>('SELECT name, value FROM indexer_state');
  return new Map(rows.map((r) => [String(r.name), r.value === null ? null : String(r.value)]));
}

export async function readState(db: Queryable, name: string): Promise<string | null> {
  const [rows] = await db.query<RowDataPacket[]>('SELECT value FROM indexer_state WHERE name = ?', [name]);
  const v = rows[0]?.value;
  return v === undefined || v === null ? null : String(v);
}

export async function writeState(db: Queryable, name: string, value: string | number | null): Promise<void> {
  await db.query(
    'INSERT INTO indexer_state (name, value, updated_at) VALUES (?, ?, NOW()) ON DUPLICATE KEY UPDATE value = VALUES(value), updated_at = VALUES(updated_at)',
    [name, value === null ? null : String(value)],
  );
}

export async function writeStates(db: Queryable, values: Record<string, string | number | null>): Promise<void> {
  const entries = Object.entries(values);
  if (entries.length === 0) return;
  const placeholders = entries.map(() => '(?, ?, NOW())').join(', ');
  await db.query(
    `INSERT INTO indexer_state (name, value, updated_at) VALUES ${placeholders} ON DUPLICATE KEY UPDATE value = VALUES(value), updated_at = VALUES(updated_at)`,
    entries.flatMap(([k, v]) => [k, v === null ? null : String(v)]),
  );
}

export async function readNumberState(db: Queryable, name: string): Promise<number | null> {
  const v = await readState(db, name);
  if (v === null || v.trim() === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/**
 * Allocates the version (source_seq) of one chunk: above every queue position, above every
 * version handed out before and above `floor` (the receiver's highest for the centre, so a reset
 * or restored indexer_state never sends versions backwards), committed before anything carrying
 * it is sent (docs/design.md). Runs under the pass lock, so no other agent allocates concurrently.
 */
export async function allocateVersion(db: Queryable, floor: number | null = null): Promise<number> {
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT (SELECT COALESCE(MAX(seq), 0) FROM study_service WHERE seq > 0) AS max_seq,
            (SELECT value FROM indexer_state WHERE name = ?) AS high`,
    [STATE.versionHigh],
  );
  const maxSeq = Number(rows[0]?.max_seq ?? 0);
  const high = Number(rows[0]?.high ?? 0) || 0;
  // Refused before it is stored: a poisoned counter must not stay raised (docs/agent.md).
  const version = checkAllocatedVersion(Math.max(maxSeq, high + 1, (floor ?? 0) + 1));
  await writeState(db, STATE.versionHigh, version);
  return version;
}
