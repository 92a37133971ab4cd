import type { PoolConnection, RowDataPacket } from 'mysql2/promise';
import type { StudyVersion } from '../record-validation.js';
import type { Pool } from './db.js';

export interface UpsertOutcome {
  stored: number;
  unchanged: number;
  stale: number;
}

/** Undated studies sort as the oldest: keyset paging then needs no NULL handling. */
export const UNDATED_SORT_AT = '1000-01-01 00:00:00';

const COLUMNS = [
  'center_id', 'study_iuid', 'deleted', 'study_pk', 'patient_pk', 'patient_id', 'patient_key', 'patient_id_issuer',
  'patient_name', 'name_key', 'patient_birthdate', 'patient_sex', 'study_datetime', 'sort_at', 'study_description',
  'study_modality', 'modalities', 'study_series', 'study_instances', 'accession_no', 'study_id', 'referring_physician',
  'received_at', 'source_seq',
] as const;

// Every column takes the new value only when the incoming version is newer; source_seq is assigned
// last because MySQL evaluates the assignments left to right and later ones see the updated value.
const UPSERT_SQL =
  `INSERT INTO studies (${COLUMNS.join(', ')}) VALUES ? ON DUPLICATE KEY UPDATE ` +
  COLUMNS.filter((c) => c !== 'center_id' && c !== 'study_iuid')
    .map((c) => `${c} = IF(VALUES(source_seq) > source_seq, VALUES(${c}), ${c})`)
    .join(', ');

const RETRYABLE = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT']);
const MAX_ATTEMPTS = 6;

function rowOf(centerId: number, v: StudyVersion, now: Date): unknown[] {
  return [
    centerId, v.study_iuid, v.deleted ? 1 : 0, v.study_pk, v.patient_pk, v.patient_id, v.patient_key, v.patient_id_issuer,
    v.patient_name, v.name_key, v.patient_birthdate, v.patient_sex, v.study_datetime, v.study_datetime ?? UNDATED_SORT_AT,
    v.study_description, v.study_modality, v.modalities.join('\\') || null, v.study_series, v.study_instances,
    v.accession_no, v.study_id, v.referring_physician, now, v.source_seq,
  ];
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

// FORCE INDEX: on a young table the optimizer may prefer a scan of the primary key, and a locking
// read that scans locks (and waits for) other centres' uncommitted rows, deadlocking concurrent batches.
async function seqsOf(conn: PoolConnection, centerId: number, iuids: string[]): Promise<Map<string, { id: number; seq: number }>> {
  const [rows] = await conn.query<RowDataPacket[]>(
    'SELECT id, study_iuid, source_seq FROM studies FORCE INDEX (studies_identity) WHERE center_id = ? AND study_iuid IN (?) FOR UPDATE',
    [centerId, iuids],
  );
  return new Map(rows.map((r) => [String(r.study_iuid), { id: Number(r.id), seq: Number(r.source_seq) }]));
}

async function replaceModalities(conn: PoolConnection, won: { id: number; v: StudyVersion }[]): Promise<void> {
  if (won.length === 0) return;
  await conn.query('DELETE FROM study_modalities WHERE study_id IN (?)', [won.map((w) => w.id)]);
  const rows = won.flatMap((w) => w.v.modalities.map((m) => [w.id, m, w.v.study_datetime ?? UNDATED_SORT_AT]));
  if (rows.length > 0) await conn.query('INSERT INTO study_modalities (study_id, modality, sort_at) VALUES ?', [rows]);
}

/** One transaction: lock the batch's existing rows, write the newer versions, rewrite their modalities. */
async function upsertOnce(conn: PoolConnection, centerId: number, batch: StudyVersion[]): Promise<UpsertOutcome> {
  const outcome: UpsertOutcome = { stored: 0, unchanged: 0, stale: 0 };
  const iuids = batch.map((v) => v.study_iuid);
  await conn.query('SET TRANSACTION ISOLATION LEVEL READ COMMITTED');
  await conn.beginTransaction();
  try {
    const before = await seqsOf(conn, centerId, iuids);
    const candidates = batch.filter((v) => {
      const prior = before.get(v.study_iuid);
      if (!prior || v.source_seq > prior.seq) return true;
      if (v.source_seq === prior.seq) outcome.unchanged += 1;
      else outcome.stale += 1;
      return false;
    });
    const now = new Date();
    if (candidates.length > 0) {
      await conn.query(UPSERT_SQL, [candidates.map((v) => rowOf(centerId, v, now))]);
      // A concurrent insert of a new study may have won: only rows now holding our version count.
      const after = await seqsOf(conn, centerId, candidates.map((v) => v.study_iuid));
      const won: { id: number; v: StudyVersion }[] = [];
      for (const v of candidates) {
        const row = after.get(v.study_iuid);
        if (row && row.seq === v.source_seq) won.push({ id: row.id, v });
        else outcome.stale += 1;
      }
      await replaceModalities(conn, won);
      outcome.stored = won.length;
    }
    await conn.commit();
    return outcome;
  } catch (err) {
    await conn.rollback().catch(() => undefined);
    throw err;
  }
}

/** Stores a centre's study versions idempotently, ordered by source_seq; safe under concurrency. */
export async function upsertStudies(pool: Pool, centerId: number, versions: StudyVersion[]): Promise<UpsertOutcome> {
  const base: UpsertOutcome = { stored: 0, unchanged: 0, stale: 0 };
  const batch = dedupe(versions, base);
  if (batch.length === 0) return base;
  const conn = await pool.getConnection();
  try {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const r = await upsertOnce(conn, centerId, batch);
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
