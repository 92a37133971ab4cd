import type { RowDataPacket } from 'mysql2/promise';
import type { StudyRecord } from '../../shared/study-record.js';
import type { Pool } from './db.js';
import { escapeLike, type Keyset, type StudyMatch } from './study-match.js';
import { matchStudies } from './study-match-sql.js';

export type { Keyset } from './study-match.js';

/** The JSON API's filters (/api/v2/studies, the legacy reads): translated to a StudyMatch below. */
export interface StudyFilters {
  patientKey?: string | undefined;
  center?: string | undefined;
  modality?: string | undefined;
  /** YYYY-MM-DD, inclusive. */
  from?: string | undefined;
  /** YYYY-MM-DD, inclusive. */
  to?: string | undefined;
  accessionNo?: string | undefined;
  studyIuid?: string | undefined;
  /** Folded family-name prefix. */
  namePrefix?: string | undefined;
  /** Contains match, case- and accent-insensitive (column collation). */
  description?: string | undefined;
  includeDeleted: boolean;
}

export interface StudyPage {
  items: StudyRecord[];
  next: Keyset | null;
}

export type StatsGroup = 'center' | 'modality' | 'month';

/** The JSON API's filters as the store's match: exactly the conditions they always meant. */
export function matchOf(f: StudyFilters): StudyMatch {
  const m: { -readonly [K in keyof StudyMatch]: StudyMatch[K] } = { includeDeleted: f.includeDeleted };
  if (f.patientKey !== undefined) m.patientKey = f.patientKey;
  if (f.center !== undefined) m.centers = [f.center];
  if (f.modality !== undefined) m.modalities = [f.modality];
  if (f.from !== undefined) m.from = f.from;
  if (f.to !== undefined) m.to = f.to;
  if (f.accessionNo !== undefined) m.accessionNo = { equals: f.accessionNo };
  if (f.studyIuid !== undefined) m.studyIuids = [f.studyIuid];
  if (f.namePrefix !== undefined) m.familyName = { like: `${escapeLike(f.namePrefix)}%` };
  if (f.description !== undefined) m.description = { like: `%${escapeLike(f.description)}%` };
  return m;
}

/** One page of studies, newest first (undated last), keyset-paged by (sort_at, id). */
export async function searchStudies(pool: Pool, f: StudyFilters, limit: number, after: Keyset | null, budgetMs: number): Promise<StudyPage> {
  const page = await matchStudies(pool, matchOf(f), { limit, after }, budgetMs);
  return { items: page.rows.map((r) => r.record), next: page.next };
}

/** Live study counts grouped by centre, modality or study month (null: undated). */
export async function studyStats(pool: Pool, group: StatsGroup): Promise<{ key: string | null; studies: number }[]> {
  const sql: Record<StatsGroup, string> = {
    // The maintained per-centre counters (exact, see study-store): a few rows, not a table scan.
    center: `SELECT c.code AS k, SUM(k.live) AS n FROM center_counts k JOIN centers c ON c.id = k.center_id
             GROUP BY c.code HAVING n > 0 ORDER BY c.code`,
    modality: `SELECT m.modality AS k, COUNT(*) AS n FROM study_modalities m JOIN studies s ON s.id = m.study_id
               WHERE s.deleted = 0 GROUP BY m.modality ORDER BY m.modality`,
    month: `SELECT DATE_FORMAT(s.study_datetime, '%Y-%m') AS k, COUNT(*) AS n FROM studies s
            WHERE s.deleted = 0 GROUP BY k ORDER BY k`,
  };
  const [rows] = await pool.query<RowDataPacket[]>(sql[group]);
  return rows.map((r) => ({ key: r.k === null ? null : String(r.k), studies: Number(r.n) }));
}
