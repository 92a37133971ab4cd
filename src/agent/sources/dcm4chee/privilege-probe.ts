import type { PacsConnection, PacsPool } from './pacs-db.js';

type Queryable = PacsPool | PacsConnection;

/**
 * Statements that touch no row but need exactly the privileges a pass uses; a denial names what
 * is missing. Nothing is written.
 */
const PROBES: { what: string; sql: string }[] = [
  { what: 'SELECT on study', sql: 'SELECT pk FROM study LIMIT 0' },
  { what: 'SELECT on patient', sql: 'SELECT pk, merge_fk FROM patient LIMIT 0' },
  { what: 'SELECT, DELETE on study_service', sql: 'DELETE FROM study_service WHERE seq IS NULL' },
  { what: 'SELECT, UPDATE on indexer_state', sql: "UPDATE indexer_state SET value = value WHERE name = '-'" },
  { what: 'INSERT on indexer_state', sql: "INSERT INTO indexer_state (name, value) SELECT name, value FROM indexer_state WHERE 1 = 0" },
  { what: 'SELECT, INSERT on indexer_dead_letter', sql: 'INSERT INTO indexer_dead_letter (source_seq, reason, created_at) SELECT source_seq, reason, created_at FROM indexer_dead_letter WHERE 1 = 0' },
];

export interface PrivilegeGap {
  what: string;
  code: string;
}

export async function probePrivileges(db: Queryable): Promise<PrivilegeGap[]> {
  const gaps: PrivilegeGap[] = [];
  for (const probe of PROBES) {
    try {
      await db.query(probe.sql);
    } catch (err) {
      gaps.push({ what: probe.what, code: (err as { code?: string }).code ?? 'error' });
    }
  }
  return gaps;
}

export async function currentAccount(db: Queryable): Promise<{ user: string; version: string; database: string }> {
  const [rows] = await db.query('SELECT CURRENT_USER() AS u, VERSION() AS v, DATABASE() AS d');
  const row = (rows as { u: string; v: string; d: string | null }[])[0];
  return { user: String(row?.u ?? ''), version: String(row?.v ?? ''), database: String(row?.d ?? '') };
}
