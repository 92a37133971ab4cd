import type { RowDataPacket } from 'mysql2/promise';
import { DECLARED_FIELDS, type FieldKind, type StudyRecord } from '../../shared/study-record.js';
import { killQuery, type Pool } from './db.js';
import { QueryTooBroadError } from './store-errors.js';
import type { CenterDirectoryEntry, Keyset, MatchedStudy, MatchPage, NameMatch, PageRequest, StudyMatch, TextMatch } from './study-match.js';

const text = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** The fields the read interfaces return (shared/study-record.ts): all but those declared `served: false`. */
const SERVED = DECLARED_FIELDS.filter((f) => f.served !== false);

// The centre is read as its row id and named from the centre directory (a few rows, read per
// search): joining `centers` in the query lets the optimizer scan that tiny table first through a
// join buffer, which loses the index order and sorts every match.
const SELECT_COLUMNS = ['s.id', 's.sort_at', 's.center_id', ...SERVED.filter((f) => f.kind !== 'center').map((f) => `s.${f.column} AS ${f.name}`)].join(', ');

/** The centres by row id, as the store names them. */
export type CenterRows = ReadonlyMap<number, CenterDirectoryEntry>;

/** Every centre (a few rows): the directory a search names its rows' centres from and resolves centre codes with. */
export async function loadCenters(pool: Pool): Promise<CenterRows> {
  const [rows] = await pool.query<RowDataPacket[]>('SELECT id, code, name, dicomweb_url, retrieve_aet FROM centers');
  return new Map(rows.map((r) => [Number(r.id), { code: String(r.code), name: text(r.name), dicomwebUrl: text(r.dicomweb_url), retrieveAet: text(r.retrieve_aet) }]));
}

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
    case 'count':
      return nullableNumber(v);
    case 'datetime':
      return v === null ? null : String(v).replace(' ', 'T');
    case 'modalities':
      return v ? String(v).split('\\') : [];
    case 'version':
      return Number(v);
    case 'deleted':
      return Number(v) === 1;
    default:
      return v;
  }
}

function toMatched(r: RowDataPacket, centers: CenterRows): MatchedStudy {
  const center = centers.get(Number(r.center_id)) ?? { code: String(r.center_id), name: null, dicomwebUrl: null, retrieveAet: null };
  const record: Record<string, unknown> = {};
  for (const f of SERVED) record[f.name] = f.kind === 'center' ? center.code : fieldValue(f.kind, r[f.name]);
  return { id: Number(r.id), record: record as StudyRecord, center };
}

type Add = (clause: string, ...values: unknown[]) => void;

function textCondition(add: Add, column: string, m: TextMatch | undefined): void {
  if (m === undefined) return;
  if ('equals' in m) add(`${column} = ?`, m.equals);
  else add(`${column} LIKE ? ESCAPE '!'`, m.like);
}

/** A list condition; an empty list matches nothing (a filter that resolved to no value). */
function listCondition(add: Add, column: string, values: readonly (string | number)[] | undefined): void {
  if (values === undefined) return;
  if (values.length === 0) add('1 = 0');
  else add(`${column} IN (?)`, [...values]);
}

/**
 * PN matching on the alphabetic group: component i is cut out with SUBSTRING_INDEX after padding
 * with `^` (so a missing component is ''); the expression keeps the column's collation, so the
 * comparison stays case- and accent-insensitive.
 */
function nameCondition(add: Add, column: string, m: NameMatch | undefined): void {
  if (m === undefined) return;
  const alphabetic = `SUBSTRING_INDEX(${column}, '=', 1)`;
  if (m.whole !== undefined) add(`${alphabetic} LIKE ? ESCAPE '!'`, m.whole);
  (m.components ?? []).forEach((c, i) => {
    if (c === null || c === undefined || i > 4) return;
    textCondition(add, `SUBSTRING_INDEX(SUBSTRING_INDEX(CONCAT(${alphabetic}, '^^^^'), '^', ${i + 1}), '^', -1)`, c);
  });
}

interface Where {
  sql: string[];
  args: unknown[];
}

/** WHERE clauses and their values; `k` is the alias whose (sort_at, id) orders the page. */
/** The row ids of the named centres (an unknown code names none). */
function centerIds(codes: readonly string[], centers: CenterRows): number[] {
  const wanted = new Set(codes);
  return [...centers].filter(([, c]) => wanted.has(c.code)).map(([id]) => id);
}

function whereOf(m: StudyMatch, after: Keyset | null, k: { sortAt: string; id: string }, singleModality: boolean, centers: CenterRows): Where {
  const where: Where = { sql: [], args: [] };
  const add: Add = (clause, ...values) => {
    where.sql.push(clause);
    where.args.push(...values);
  };
  if (m.patientKey !== undefined) add('s.patient_key = ?', m.patientKey);
  textCondition(add, 'TRIM(s.patient_id) COLLATE utf8mb4_bin', m.patientId);
  if (m.centers !== undefined) {
    const ids = centerIds(m.centers, centers);
    if (ids.length === 1) add('s.center_id = ?', ids[0]);
    else listCondition(add, 's.center_id', ids);
  }
  if (!singleModality && m.modalities !== undefined) {
    if (m.modalities.length === 0) add('1 = 0');
    else add('EXISTS (SELECT 1 FROM study_modalities mm WHERE mm.study_id = s.id AND mm.modality IN (?))', [...m.modalities]);
  }
  textCondition(add, 's.accession_no', m.accessionNo);
  listCondition(add, 's.study_iuid', m.studyIuids);
  textCondition(add, 's.study_id', m.studyId);
  textCondition(add, 's.name_key', m.familyName);
  nameCondition(add, 's.patient_name', m.patientName);
  nameCondition(add, 's.referring_physician', m.referringPhysician);
  textCondition(add, 's.study_description', m.description);
  // Undated studies have exactly this sort key; testing it (not study_datetime) keeps index-only plans.
  if (m.from !== undefined || m.to !== undefined) add(`${k.sortAt} <> '1000-01-01 00:00:00'`);
  if (m.from !== undefined) add(`${k.sortAt} >= ?`, `${m.from} 00:00:00`);
  if (m.to !== undefined) add(`${k.sortAt} < DATE_ADD(?, INTERVAL 1 DAY)`, m.to);
  if (m.timeFrom !== undefined || m.timeTo !== undefined) add('s.study_datetime IS NOT NULL');
  if (m.timeFrom !== undefined) add('TIME(s.study_datetime) >= ?', m.timeFrom);
  if (m.timeTo !== undefined) add('TIME(s.study_datetime) <= ?', m.timeTo);
  if (!m.includeDeleted) add('s.deleted = 0');
  if (after) add(`(${k.sortAt} < ? OR (${k.sortAt} = ? AND ${k.id} < ?))`, after.sortAt, after.sortAt, after.id);
  return where;
}

/**
 * A family name with nothing more selective (dates aside): left alone, the optimizer walks the date
 * index in order and filters by name, quick for a common prefix but a whole-table read for a rare
 * or absent one. Instead the page's ids are picked from the name index alone (name_key, deleted,
 * sort_at, id: no row is read to filter or sort), and only those rows are fetched.
 */
function nameOnly(m: StudyMatch): boolean {
  const other = [m.patientKey, m.patientId, m.accessionNo, m.studyIuids, m.studyId, m.modalities, m.centers, m.description,
    m.patientName, m.referringPhysician, m.timeFrom, m.timeTo];
  return m.familyName !== undefined && other.every((v) => v === undefined);
}

interface Built {
  sql: string;
  args: unknown[];
}

function limitClause(page: PageRequest): { sql: string; args: unknown[] } {
  return page.offset ? { sql: ' LIMIT ? OFFSET ?', args: [page.limit + 1, page.offset] } : { sql: ' LIMIT ?', args: [page.limit + 1] };
}

/** The SQL of one page, one row more than asked (to tell whether more match); exported so tests and the benchmark can EXPLAIN it. */
export function matchSql(m: StudyMatch, page: PageRequest, centers: CenterRows): Built {
  const single = m.modalities !== undefined && m.modalities.length === 1;
  const k = single ? { sortAt: 'm.sort_at', id: 'm.study_id' } : { sortAt: 's.sort_at', id: 's.id' };
  const join = single ? 'JOIN study_modalities m ON m.study_id = s.id AND m.modality = ?' : '';
  const where = whereOf(m, page.after ?? null, k, single, centers);
  const cond = where.sql.length > 0 ? ` WHERE ${where.sql.join(' AND ')}` : '';
  const order = ` ORDER BY ${k.sortAt} DESC, ${k.id} DESC`;
  const limit = limitClause(page);
  if (nameOnly(m)) {
    const ids = `SELECT s.id FROM studies s FORCE INDEX (studies_name)${cond}${order}${limit.sql}`;
    return {
      sql: `SELECT ${SELECT_COLUMNS} FROM (${ids}) p JOIN studies s ON s.id = p.id${order}`,
      args: [...where.args, ...limit.args],
    };
  }
  const sql = `SELECT ${SELECT_COLUMNS} FROM studies s ${join}${cond}${order}${limit.sql}`;
  return { sql, args: [...(single ? [m.modalities![0]] : []), ...where.args, ...limit.args] };
}

/** The SQL counting every match (no paging). */
export function countSql(m: StudyMatch, centers: CenterRows): Built {
  const single = m.modalities !== undefined && m.modalities.length === 1;
  const k = single ? { sortAt: 'm.sort_at', id: 'm.study_id' } : { sortAt: 's.sort_at', id: 's.id' };
  const join = single ? 'JOIN study_modalities m ON m.study_id = s.id AND m.modality = ?' : '';
  const where = whereOf(m, null, k, single, centers);
  const cond = where.sql.length > 0 ? ` WHERE ${where.sql.join(' AND ')}` : '';
  return { sql: `SELECT COUNT(*) AS n FROM studies s ${join}${cond}`, args: [...(single ? [m.modalities![0]] : []), ...where.args] };
}

/**
 * A SELECT with a time budget: past it the statement is stopped (KILL QUERY from a side connection)
 * and the search refused, so one that would crawl cannot hold a connection and a core. The server's
 * own statement timeout (MariaDB max_statement_time) is not used: when it fires as a result is
 * completing, MariaDB can send an error after the result, which the driver then hands to the next
 * statement on that connection — another request's answer. A connection whose statement ran past
 * the budget is destroyed, never returned to the pool, so nothing of that statement reaches anyone.
 */
async function budgeted(pool: Pool, built: Built, budgetMs: number): Promise<RowDataPacket[]> {
  const conn = await pool.getConnection();
  const started = performance.now();
  let overrun = false;
  const timer = setTimeout(() => {
    overrun = true;
    void killQuery(pool, conn.threadId);
  }, budgetMs);
  try {
    const [rows] = await conn.query<RowDataPacket[]>(built.sql, built.args);
    // Finished, but past the budget (the stop came too late): refused all the same, so the budget
    // is one rule — what takes longer is too broad — not a race with the stop.
    // The clock too, not only the timer: a busy process may read the answer before running a timer
    // that is already due, and the rule must not depend on which it does first.
    if (overrun || performance.now() - started > budgetMs) {
      // One rule for the connection too: whatever refused the search, it is not reused.
      overrun = true;
      throw new QueryTooBroadError();
    }
    return rows;
  } catch (err) {
    if (overrun) throw new QueryTooBroadError(err);
    throw err;
  } finally {
    clearTimeout(timer);
    if (overrun) conn.destroy();
    else conn.release();
  }
}

/** One page of matching studies, newest first (undated last). */
export async function matchStudies(pool: Pool, m: StudyMatch, page: PageRequest, budgetMs: number): Promise<MatchPage> {
  const centers = await loadCenters(pool);
  const rows = await budgeted(pool, matchSql(m, page, centers), budgetMs);
  const kept = rows.slice(0, page.limit);
  const last = kept.at(-1);
  const more = rows.length > page.limit;
  return { rows: kept.map((r) => toMatched(r, centers)), more, next: more && last ? { sortAt: String(last.sort_at), id: Number(last.id) } : null };
}

/** How many studies match; null when the count does not finish within the budget. */
export async function countStudies(pool: Pool, m: StudyMatch, budgetMs: number): Promise<number | null> {
  try {
    const rows = await budgeted(pool, countSql(m, await loadCenters(pool)), budgetMs);
    return Number(rows[0]?.n ?? 0);
  } catch (err) {
    if (err instanceof QueryTooBroadError) return null;
    throw err;
  }
}

export async function studyById(pool: Pool, id: number): Promise<MatchedStudy | null> {
  const [rows] = await pool.query<RowDataPacket[]>(`SELECT ${SELECT_COLUMNS} FROM studies s WHERE s.id = ?`, [id]);
  return rows[0] ? toMatched(rows[0], await loadCenters(pool)) : null;
}
