import type { RowDataPacket } from 'mysql2/promise';
import type { StudyVersion } from '../src/receiver/record-validation.js';
import { withTransaction, type Pool } from '../src/receiver/store/db.js';
import { UNDATED_SORT_AT, VERSION_COLUMNS } from '../src/receiver/store/study-store.js';

const COLUMNS = ['id', 'center_id', ...VERSION_COLUMNS.map((c) => c.column), 'received_at'];

/**
 * Loads validated versions of new studies straight into the tables with explicit ids (benchmarks
 * and large test fixtures only: no version checks, no counters until finishBulkLoad). One
 * multi-row statement per table per call; `firstId` must be above every existing id.
 */
export async function bulkInsertStudies(pool: Pool, centerId: number, versions: StudyVersion[], firstId: number): Promise<void> {
  if (versions.length === 0) return;
  const now = new Date().toISOString().slice(0, 23).replace('T', ' ');
  const rows = versions.map((v, i) => [firstId + i, centerId, ...VERSION_COLUMNS.map((c) => c.value(v)), now]);
  const mods = versions.flatMap((v, i) => v.modalities.map((m) => [firstId + i, m, v.study_datetime ?? UNDATED_SORT_AT]));
  await withTransaction(pool, async (conn) => {
    await conn.query(`INSERT INTO studies (${COLUMNS.join(', ')}) VALUES ?`, [rows]);
    if (mods.length > 0) await conn.query('INSERT INTO study_modalities (study_id, modality, sort_at) VALUES ?', [mods]);
  });
}

/** A centre's row id by code (bulk loads write it straight into the rows). */
export async function centerIdOf(pool: Pool, code: string): Promise<number | null> {
  const [rows] = await pool.query<RowDataPacket[]>('SELECT id FROM centers WHERE code = ?', [code]);
  return rows[0] ? Number(rows[0].id) : null;
}

/**
 * Recomputes the centre counters from the studies (after a bulk load that bypassed ingest). The
 * highest source_seq includes the stored studies': it is the agent's version floor (docs/design.md).
 */
async function rebuildCenterCounts(pool: Pool): Promise<void> {
  await withTransaction(pool, async (conn) => {
    await conn.query('DELETE FROM center_counts');
    await conn.query(
      `INSERT INTO center_counts (center_id, slot, live, last_seen, last_source_seq)
       SELECT c.id, 0, (SELECT COUNT(*) FROM studies s WHERE s.center_id = c.id AND s.deleted = 0), c.last_seen,
         NULLIF(GREATEST(COALESCE(c.last_source_seq, -1), COALESCE((SELECT MAX(s.source_seq) FROM studies s WHERE s.center_id = c.id), -1)), -1)
       FROM centers c`,
    );
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
