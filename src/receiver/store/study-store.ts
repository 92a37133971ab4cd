import { randomBytes } from 'node:crypto';
import type { PoolConnection, RowDataPacket } from 'mysql2/promise';
import { STORED_FIELDS } from '../../shared/study-record.js';
import type { StudyVersion } from '../record-validation.js';
import { withTransaction, type Pool } from './db.js';

export interface UpsertOutcome {
  stored: number;
  unchanged: number;
  stale: number;
}

/** Undated studies sort as the oldest: keyset paging then needs no NULL handling. */
export const UNDATED_SORT_AT = '1000-01-01 00:00:00';

/** A version's value for its field's column: the flag as 0/1, the modalities joined (their rows apart). */
function columnValue(field: (typeof STORED_FIELDS)[number], v: StudyVersion): unknown {
  const value = v[field.name];
  if (field.kind === 'deleted') return value ? 1 : 0;
  if (field.kind === 'modalities') return (value as string[]).join('\\') || null;
  return value;
}

/**
 * The `studies` columns a version fills and how: every stored field of the record (declared in
 * shared/study-record.ts), then the search keys, sort key and digest the receiver derives.
 */
export const VERSION_COLUMNS: readonly { column: string; value: (v: StudyVersion) => unknown }[] = [
  ...STORED_FIELDS.map((field) => ({ column: field.column, value: (v: StudyVersion) => columnValue(field, v) })),
  { column: 'patient_key', value: (v) => v.patient_key },
  { column: 'name_key', value: (v) => v.name_key },
  { column: 'sort_at', value: (v) => v.study_datetime ?? UNDATED_SORT_AT },
  { column: 'digest', value: (v) => v.digest },
];

// source_seq goes last: the update below assigns it after every column whose condition reads it.
const WRITTEN = VERSION_COLUMNS.filter((c) => c.column !== 'source_seq');
const COLUMNS = ['center_id', 'write_id', 'prev_deleted', ...WRITTEN.map((c) => c.column), 'received_at', 'source_seq'];

const won = 'VALUES(source_seq) > source_seq';

// Every column takes the new value only when the incoming version is newer. MySQL evaluates the
// assignments left to right, later ones seeing the values already assigned: prev_deleted copies
// `deleted` before it changes, and source_seq, on which every condition depends, is assigned last.
const UPSERT_SQL =
  `INSERT INTO studies (${COLUMNS.join(', ')}) VALUES ? ON DUPLICATE KEY UPDATE ` +
  COLUMNS.filter((c) => c !== 'center_id' && c !== 'study_iuid')
    .map((c) => (c === 'prev_deleted' ? `prev_deleted = IF(${won}, deleted, prev_deleted)` : `${c} = IF(${won}, VALUES(${c}), ${c})`))
    .join(', ');

const COUNTER_SQL =
  `INSERT INTO center_counts (center_id, slot, live, last_seen, last_source_seq) VALUES (?, ?, ?, UTC_TIMESTAMP(3), ?)
   ON DUPLICATE KEY UPDATE live = live + VALUES(live), last_seen = VALUES(last_seen),
     last_source_seq = GREATEST(COALESCE(last_source_seq, VALUES(last_source_seq)), COALESCE(VALUES(last_source_seq), last_source_seq))`;

/** Counter rows per centre: concurrent batches of one centre mostly update different rows. */
const COUNTER_SLOTS = 4;

const RETRYABLE = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT']);
const MAX_ATTEMPTS = 6;

function utcNow(): string {
  return new Date().toISOString().slice(0, 23).replace('T', ' ');
}

function rowOf(centerId: number, writeId: bigint, v: StudyVersion, now: string): unknown[] {
  return [centerId, writeId, null, ...WRITTEN.map((c) => c.value(v)), now, v.source_seq];
}

/** Keeps the highest version of each study in a batch; the others are counted, not written. */
function dedupe(versions: StudyVersion[], outcome: UpsertOutcome): StudyVersion[] {
  const best = new Map<string, StudyVersion>();
  for (const v of versions) {
    const seen = best.get(v.study_iuid);
    if (!seen) best.set(v.study_iuid, v);
    else if (v.source_seq > seen.source_seq) {
      outcome.stale += 1;
      best.set(v.study_iuid, v);
    } else if (v.source_seq === seen.source_seq) outcome.unchanged += 1;
    else outcome.stale += 1;
  }
  // One lock order for every batch keeps concurrent batches from deadlocking each other.
  return [...best.values()].sort((a, b) => (a.study_iuid < b.study_iuid ? -1 : a.study_iuid > b.study_iuid ? 1 : 0));
}

interface Written {
  id: number;
  v: StudyVersion;
  /** The row existed before this transaction (it may have modality rows to replace). */
  existed: boolean;
}

/**
 * After the upsert this transaction holds a lock on every row of the batch, so this plain read is
 * exact: a row carrying our write_id is one we changed; otherwise its version decides unchanged or
 * stale. FORCE INDEX: a young table's statistics may otherwise pick a scan.
 */
async function classify(conn: PoolConnection, centerId: number, writeId: bigint, batch: StudyVersion[], outcome: UpsertOutcome) {
  const [rows] = await conn.query<RowDataPacket[]>(
    `SELECT id, study_iuid, source_seq, write_id = ? AS ours, prev_deleted FROM studies FORCE INDEX (studies_identity)
     WHERE center_id = ? AND study_iuid IN (?)`,
    [writeId, centerId, batch.map((v) => v.study_iuid)],
  );
  const byIuid = new Map(rows.map((r) => [String(r.study_iuid), r]));
  const written: Written[] = [];
  let liveDelta = 0;
  for (const v of batch) {
    const r = byIuid.get(v.study_iuid);
    if (r && Number(r.ours) === 1) {
      const existed = r.prev_deleted !== null;
      written.push({ id: Number(r.id), v, existed });
      liveDelta += (v.deleted ? 0 : 1) - (existed && Number(r.prev_deleted) === 0 ? 1 : 0);
    } else if (r && Number(r.source_seq) === v.source_seq) outcome.unchanged += 1;
    else outcome.stale += 1;
  }
  outcome.stored = written.length;
  return { written, liveDelta };
}

/** Modality rows of the rows this transaction changed; only rows that existed can have old ones. */
async function replaceModalities(conn: PoolConnection, written: Written[]): Promise<void> {
  const existing = written.filter((w) => w.existed).map((w) => w.id);
  if (existing.length > 0) await conn.query('DELETE FROM study_modalities WHERE study_id IN (?)', [existing]);
  const rows = written.flatMap((w) => w.v.modalities.map((m) => [w.id, m, w.v.study_datetime ?? UNDATED_SORT_AT]));
  if (rows.length > 0) await conn.query('INSERT INTO study_modalities (study_id, modality, sort_at) VALUES ?', [rows]);
}

/** One transaction: conditional upsert stamped with a write id, classify, modalities, counters. */
async function upsertOnce(conn: PoolConnection, centerId: number, batch: StudyVersion[], highestSeq: number | null): Promise<UpsertOutcome> {
  const outcome: UpsertOutcome = { stored: 0, unchanged: 0, stale: 0 };
  // 63 random bits (a BigInt: formatted as an exact integer literal); a collision would also need
  // the same study to carry that earlier stamp.
  const writeId = randomBytes(8).readBigUInt64BE() >> 1n;
  const now = utcNow();
  await conn.beginTransaction();
  try {
    await conn.query(UPSERT_SQL, [batch.map((v) => rowOf(centerId, writeId, v, now))]);
    const { written, liveDelta } = await classify(conn, centerId, writeId, batch, outcome);
    await replaceModalities(conn, written);
    await conn.query(COUNTER_SQL, [centerId, Math.floor(Math.random() * COUNTER_SLOTS), liveDelta, highestSeq]);
    await conn.commit();
    return outcome;
  } catch (err) {
    await conn.rollback().catch(() => undefined);
    throw err;
  }
}

/** Records contact from a centre that sent nothing storable (empty or fully rejected batch). */
export async function touchCenter(pool: Pool, centerId: number): Promise<void> {
  await pool.query(COUNTER_SQL, [centerId, Math.floor(Math.random() * COUNTER_SLOTS), 0, null]);
}

/** Stores a centre's study versions idempotently, ordered by source_seq; safe under concurrency. */
export async function upsertStudies(pool: Pool, centerId: number, versions: StudyVersion[]): Promise<UpsertOutcome> {
  const base: UpsertOutcome = { stored: 0, unchanged: 0, stale: 0 };
  const batch = dedupe(versions, base);
  if (batch.length === 0) {
    await touchCenter(pool, centerId);
    return base;
  }
  // Legacy versions are negative (arrival time − 2^52): they are not agent positions, not recorded.
  const top = batch.reduce((max, v) => Math.max(max, v.source_seq), -1);
  const highestSeq = top >= 0 ? top : null;
  const conn = await pool.getConnection();
  try {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const r = await upsertOnce(conn, centerId, batch, highestSeq);
        return { stored: r.stored, unchanged: base.unchanged + r.unchanged, stale: base.stale + r.stale };
      } catch (err) {
        const code = (err as { code?: string }).code ?? '';
        if (!RETRYABLE.has(code) || attempt >= MAX_ATTEMPTS) throw err;
        await new Promise((resolve) => setTimeout(resolve, 5 * attempt * Math.random()));
      }
    }
  } finally {
    conn.release();
  }
}
