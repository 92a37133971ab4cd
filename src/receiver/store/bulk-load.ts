import type { StudyVersion } from '../record-validation.js';
import { withTransaction, type Pool } from './db.js';
import { rebuildCenterCounts, UNDATED_SORT_AT } from './study-store.js';

const COLUMNS = [
  'id', 'center_id', 'study_iuid', 'source_seq', 'deleted', 'study_pk', 'patient_pk', 'patient_id', 'patient_key',
  'patient_id_issuer', 'patient_name', 'name_key', 'patient_birthdate', 'patient_sex', 'study_datetime', 'sort_at',
  'study_description', 'study_modality', 'modalities', 'study_series', 'study_instances', 'accession_no', 'study_id',
  'referring_physician', 'content_hash', 'digest', 'received_at',
] as const;

/**
 * Loads validated versions of new studies straight into the tables with explicit ids (benchmarks
 * and large test fixtures only: no version checks, no counters until finishBulkLoad). One
 * multi-row statement per table per call; `firstId` must be above every existing id.
 */
export async function bulkInsertStudies(pool: Pool, centerId: number, versions: StudyVersion[], firstId: number): Promise<void> {
  if (versions.length === 0) return;
  const now = new Date().toISOString().slice(0, 23).replace('T', ' ');
  const rows = versions.map((v, i) => [
    firstId + i, centerId, v.study_iuid, v.source_seq, v.deleted ? 1 : 0, v.study_pk, v.patient_pk, v.patient_id,
    v.patient_key, v.patient_id_issuer, v.patient_name, v.name_key, v.patient_birthdate, v.patient_sex, v.study_datetime,
    v.study_datetime ?? UNDATED_SORT_AT, v.study_description, v.study_modality, v.modalities.join('\\') || null,
    v.study_series, v.study_instances, v.accession_no, v.study_id, v.referring_physician, v.content_hash, v.digest, now,
  ]);
  const mods = versions.flatMap((v, i) => v.modalities.map((m) => [firstId + i, m, v.study_datetime ?? UNDATED_SORT_AT]));
  await withTransaction(pool, async (conn) => {
    await conn.query(`INSERT INTO studies (${COLUMNS.join(', ')}) VALUES ?`, [rows]);
    if (mods.length > 0) await conn.query('INSERT INTO study_modalities (study_id, modality, sort_at) VALUES ?', [mods]);
  });
}

/** After a bulk load: counters recomputed, index statistics refreshed for the optimizer. */
export async function finishBulkLoad(pool: Pool): Promise<void> {
  await rebuildCenterCounts(pool);
  await pool.query('ANALYZE TABLE studies, study_modalities');
}

/** EXPLAIN of a read statement (benchmarks check which index a query uses). */
export async function explain(pool: Pool, sql: string, args: unknown[]): Promise<Record<string, unknown>[]> {
  const [rows] = await pool.query(`EXPLAIN ${sql}`, args);
  return rows as Record<string, unknown>[];
}
