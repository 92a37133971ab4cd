import type { RowDataPacket } from 'mysql2/promise';
import type { StudyRow } from './study-mapper.js';
import type { PacsConnection, PacsPool } from './pacs-db.js';
import { readStudiesByPk } from './study-reader.js';

type Queryable = PacsPool | PacsConnection;

/** indexer_state name of the last reconcile report (JSON text), shown by `indexer status`. */
export const RECONCILE_STATE = 'reconcile.last';

/** The day after `YYYY-MM-DD`, as the exclusive end of a DATETIME range. */
function nextDay(day: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

/** Rows of the given studies, read by primary key in chunks of `chunk` (merges followed). */
export async function readStudiesByPkChunked(db: Queryable, pks: readonly number[], chunk: number): Promise<StudyRow[]> {
  const out: StudyRow[] = [];
  for (let i = 0; i < pks.length; i += chunk) out.push(...(await readStudiesByPk(db, pks.slice(i, i + chunk))));
  return out;
}

/**
 * The studies whose study_datetime falls on `day` (the study_datetime index, a range: no function
 * on the column). The caller still checks the mapped day: an impossible date such as 2020-02-31
 * sorts inside a neighbouring range but is "undated" in the record.
 */
export async function readStudiesOfDay(db: Queryable, day: string, chunk: number): Promise<StudyRow[]> {
  const [rows] = await db.query<RowDataPacket[]>(
    'SELECT pk FROM study WHERE study_datetime >= ? AND study_datetime < ? ORDER BY pk',
    [`${day} 00:00:00`, `${nextDay(day)} 00:00:00`],
  );
  return readStudiesByPkChunked(db, rows.map((r) => Number(r.pk)), chunk);
}

/** Current rows carrying one of the given iuids, anywhere in the table (the unique iuid index). */
export async function readStudiesByIuid(db: Queryable, iuids: readonly string[], chunk: number): Promise<StudyRow[]> {
  const pks: number[] = [];
  for (let i = 0; i < iuids.length; i += chunk) {
    const [rows] = await db.query<RowDataPacket[]>('SELECT pk FROM study WHERE study_iuid IN (?)', [iuids.slice(i, i + chunk)]);
    pks.push(...rows.map((r) => Number(r.pk)));
  }
  return readStudiesByPkChunked(db, pks, chunk);
}
