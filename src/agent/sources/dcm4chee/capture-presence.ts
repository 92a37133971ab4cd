import type { RowDataPacket } from 'mysql2/promise';
import type { PacsPool } from './pacs-db.js';

const REQUIRED_TABLES = ['study_service', 'indexer_state', 'indexer_dead_letter'];

/**
 * What keeps a pass from running, as short phrases (empty: fine). A cheap guard before every pass
 * (one information_schema query); `indexer check` inspects the capture objects fully.
 */
export async function captureBlockers(pool: PacsPool): Promise<string[]> {
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT TABLE_NAME AS t, SUM(COLUMN_NAME = 'seq') AS has_seq FROM information_schema.COLUMNS
     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?) GROUP BY TABLE_NAME`,
    [REQUIRED_TABLES],
  );
  const present = new Map(rows.map((r) => [String(r.t), Number(r.has_seq)]));
  const problems = REQUIRED_TABLES.filter((t) => !present.has(t)).map((t) => `missing ${t}`);
  if (present.get('study_service') === 0) problems.push('study_service is the legacy queue');
  return problems;
}
