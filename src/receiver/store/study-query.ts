import type { RowDataPacket } from 'mysql2/promise';
import { DECLARED_FIELDS, type FieldKind, type StudyRecord } from '../../shared/study-record.js';
import type { Pool } from './db.js';

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

/** Position after which the next page starts (the last item of the previous page). */
export interface Keyset {
  sortAt: string;
  id: number;
}

export interface StudyPage {
  items: StudyRecord[];
  next: Keyset | null;
}

export type StatsGroup = 'center' | 'modality' | 'month';

/** Escapes LIKE metacharacters with `!` (ESCAPE '!'), so user text is matched literally. */
export function escapeLike(text: string): string {
  return text.replace(/[!%_]/g, (c) => `!${c}`);
}

/** The fields the read API returns (shared/study-record.ts): all but those declared `served: false`. */
const SERVED = DECLARED_FIELDS.filter((f) => f.served !== false);

// c.code AS center: the record's centre is its code; its column is the centre's row id.
const SELECT_COLUMNS = ['s.id', 's.sort_at', ...SERVED.map((f) => (f.kind === 'center' ? `c.code AS ${f.name}` : `s.${f.column} AS ${f.name}`))].join(', ');

function nullableNumber(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}

/** A column's value as the record carries it, by the field's kind. */
function fieldValue(kind: FieldKind, v: unknown): unknown {
  switch (kind) {
    case 'center':
    case 'uid':
      return String(v);
    case 'key':
      return nullableNumber(v);
    case 'datetime':
      return v === null ? null : String(v).replace(' ', 'T');
    case 'modalities':
      return v ? String(v).split('\\') : [];
    case 'count':
    case 'version':
      return Number(v);
    case 'deleted':
      return Number(v) === 1;
    default:
      return v;
  }
}

function toRecord(r: RowDataPacket): StudyRecord {
  const record: Record<string, unknown> = {};
  for (const f of SERVED) record[f.name] = fieldValue(f.kind, r[f.name]);
  return record as StudyRecord;
}

/** WHERE clauses and their values; `k` is the alias whose (sort_at, id) orders the page. */
function whereOf(f: StudyFilters, after: Keyset | null, k: { sortAt: string; id: string }): { sql: string[]; args: unknown[] } {
  const sql: string[] = [];
  const args: unknown[] = [];
  const add = (clause: string, ...values: unknown[]) => {
    sql.push(clause);
    args.push(...values);
  };
  if (f.patientKey !== undefined) add('s.patient_key = ?', f.patientKey);
  if (f.center !== undefined) add('c.code = ?', f.center);
  if (f.accessionNo !== undefined) add('s.accession_no = ?', f.accessionNo);
  if (f.studyIuid !== undefined) add('s.study_iuid = ?', f.studyIuid);
  if (f.namePrefix !== undefined) add("s.name_key LIKE ? ESCAPE '!'", `${escapeLike(f.namePrefix)}%`);
  if (f.description !== undefined) add("s.study_description LIKE ? ESCAPE '!'", `%${escapeLike(f.description)}%`);
  // Undated studies have exactly this sort key; testing it (not study_datetime) keeps index-only plans.
  if (f.from !== undefined || f.to !== undefined) add(`${k.sortAt} <> '1000-01-01 00:00:00'`);
  if (f.from !== undefined) add(`${k.sortAt} >= ?`, `${f.from} 00:00:00`);
  if (f.to !== undefined) add(`${k.sortAt} < DATE_ADD(?, INTERVAL 1 DAY)`, f.to);
  if (!f.includeDeleted) add('s.deleted = 0');
  if (after) add(`(${k.sortAt} < ? OR (${k.sortAt} = ? AND ${k.id} < ?))`, after.sortAt, after.sortAt, after.id);
  return { sql, args };
}

/**
 * A name prefix with nothing more selective (dates aside): left alone, the optimizer walks the date
 * index in order and filters by name, quick for a common prefix but a whole-table read for a rare
 * or absent one. Instead the page's ids are picked from the name index alone (name_key, deleted,
 * sort_at, id: no row is read to filter or sort), and only those rows are fetched.
 */
function nameOnly(f: StudyFilters): boolean {
  const other = f.patientKey ?? f.accessionNo ?? f.studyIuid ?? f.modality ?? f.center ?? f.description;
  return f.namePrefix !== undefined && other === undefined;
}

/** The SQL of one page (exported so the benchmark can EXPLAIN exactly what is run). */
export function searchSql(f: StudyFilters, limit: number, after: Keyset | null): { sql: string; args: unknown[] } {
  const byModality = f.modality !== undefined;
  const k = byModality ? { sortAt: 'm.sort_at', id: 'm.study_id' } : { sortAt: 's.sort_at', id: 's.id' };
  const join = byModality ? 'JOIN study_modalities m ON m.study_id = s.id AND m.modality = ?' : '';
  const where = whereOf(f, after, k);
  const cond = where.sql.length > 0 ? ` WHERE ${where.sql.join(' AND ')}` : '';
  const order = ` ORDER BY ${k.sortAt} DESC, ${k.id} DESC`;
  if (nameOnly(f)) {
    const ids = `SELECT s.id FROM studies s FORCE INDEX (studies_name)${cond}${order} LIMIT ?`;
    return {
      sql: `SELECT ${SELECT_COLUMNS} FROM (${ids}) p JOIN studies s ON s.id = p.id JOIN centers c ON c.id = s.center_id${order}`,
      args: [...where.args, limit + 1],
    };
  }
  const sql = `SELECT ${SELECT_COLUMNS} FROM studies s JOIN centers c ON c.id = s.center_id ${join}${cond}${order} LIMIT ?`;
  return { sql, args: [...(byModality ? [f.modality] : []), ...where.args, limit + 1] };
}

/** One page of studies, newest first (undated last), keyset-paged by (sort_at, id). */
export async function searchStudies(pool: Pool, f: StudyFilters, limit: number, after: Keyset | null): Promise<StudyPage> {
  const { sql, args } = searchSql(f, limit, after);
  const [rows] = await pool.query<RowDataPacket[]>(sql, args);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map(toRecord),
    next: rows.length > limit && last ? { sortAt: String(last.sort_at), id: Number(last.id) } : null,
  };
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
