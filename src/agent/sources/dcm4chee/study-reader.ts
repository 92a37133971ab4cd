import type { RowDataPacket } from 'mysql2/promise';
import type { StudyRow } from './study-mapper.js';
import type { PacsConnection, PacsPool } from './pacs-db.js';

type Queryable = PacsPool | PacsConnection;

/**
 * Text columns are cast to BINARY so the server does not convert them from the column charset:
 * the column charset is often wrong (UTF-8 bytes in latin1 columns); record/text-decode.ts decides.
 */
const PATIENT_COLUMNS = `CAST(p.pat_id AS BINARY) AS pat_id, CAST(p.pat_id_issuer AS BINARY) AS pat_id_issuer,
  CAST(p.pat_name AS BINARY) AS pat_name, CAST(p.pat_birthdate AS BINARY) AS pat_birthdate,
  CAST(p.pat_sex AS BINARY) AS pat_sex`;

const STUDY_SELECT = `SELECT s.pk AS study_pk, CAST(s.study_iuid AS BINARY) AS study_iuid,
  CAST(s.study_id AS BINARY) AS study_id, s.study_datetime, CAST(s.accession_no AS BINARY) AS accession_no,
  CAST(s.ref_physician AS BINARY) AS ref_physician, CAST(s.study_desc AS BINARY) AS study_desc,
  CAST(s.mods_in_study AS BINARY) AS mods_in_study, s.num_series, s.num_instances,
  p.pk AS patient_pk, p.merge_fk AS merge_fk, ${PATIENT_COLUMNS}
FROM study s LEFT JOIN patient p ON p.pk = s.patient_fk`;

/** Longest merge chain followed; deeper (or cyclic) chains stop at the last patient reached. */
const MAX_MERGE_DEPTH = 16;

type RawStudyRow = StudyRow & { merge_fk: number | string | null };

/** The next `limit` studies with pk > afterPk, in pk order (the initial load's walk). */
export async function readStudiesAfter(db: Queryable, afterPk: number, limit: number): Promise<StudyRow[]> {
  const [rows] = await db.query<RowDataPacket[]>(`${STUDY_SELECT} WHERE s.pk > ? ORDER BY s.pk LIMIT ?`, [afterPk, limit]);
  return resolveMerges(db, rows as unknown as RawStudyRow[]);
}

/** The current rows of the given studies; a pk with no row was deleted. */
export async function readStudiesByPk(db: Queryable, pks: readonly number[]): Promise<StudyRow[]> {
  if (pks.length === 0) return [];
  const [rows] = await db.query<RowDataPacket[]>(`${STUDY_SELECT} WHERE s.pk IN (?)`, [pks]);
  return resolveMerges(db, rows as unknown as RawStudyRow[]);
}

export async function countStudiesAfter(db: Queryable, afterPk: number): Promise<number> {
  const [rows] = await db.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM study WHERE pk > ?', [afterPk]);
  return Number(rows[0]?.n ?? 0);
}

interface PatientRow {
  pk: number;
  merge_fk: number | null;
  fields: Pick<StudyRow, 'pat_id' | 'pat_id_issuer' | 'pat_name' | 'pat_birthdate' | 'pat_sex'>;
}

async function readPatients(db: Queryable, pks: readonly number[]): Promise<Map<number, PatientRow>> {
  const [rows] = await db.query<RowDataPacket[]>(`SELECT p.pk, p.merge_fk, ${PATIENT_COLUMNS} FROM patient p WHERE p.pk IN (?)`, [pks]);
  const out = new Map<number, PatientRow>();
  for (const r of rows) {
    const { pk, merge_fk: mergeFk, ...fields } = r;
    out.set(Number(pk), { pk: Number(pk), merge_fk: mergeFk === null ? null : Number(mergeFk), fields: fields as PatientRow['fields'] });
  }
  return out;
}

/**
 * A study whose patient was merged away (merge_fk set) belongs to the dominant patient at the end
 * of the merge chain: dcm4chee may leave studies on the prior patient.
 */
async function resolveMerges(db: Queryable, rows: RawStudyRow[]): Promise<StudyRow[]> {
  let pending = rows.filter((r) => r.merge_fk !== null && r.merge_fk !== undefined);
  const target = new Map<RawStudyRow, number>();
  const visited = new Map<RawStudyRow, Set<number>>();
  for (const r of pending) {
    target.set(r, Number(r.merge_fk));
    visited.set(r, new Set([Number(r.patient_pk)]));
  }
  for (let depth = 0; depth < MAX_MERGE_DEPTH && pending.length > 0; depth++) {
    const patients = await readPatients(db, [...new Set(pending.map((r) => target.get(r)!))]);
    const next: RawStudyRow[] = [];
    for (const r of pending) {
      const p = patients.get(target.get(r)!);
      if (!p) continue; // dangling merge_fk: keep the patient the study points to
      Object.assign(r, p.fields, { patient_pk: p.pk });
      const seen = visited.get(r)!;
      seen.add(p.pk);
      if (p.merge_fk !== null && !seen.has(p.merge_fk)) {
        target.set(r, p.merge_fk);
        next.push(r);
      }
    }
    pending = next;
  }
  return rows;
}

/**
 * Studies whose study_iuid is empty (dcm4chee's column is NOT NULL and unique, so at most a
 * handful): they cannot be identified at the receiver and are never sent. An index lookup.
 */
export async function studiesWithoutIuid(db: Queryable, limit: number): Promise<{ count: number; study_pks: number[] }> {
  const [rows] = await db.query<RowDataPacket[]>("SELECT pk FROM study WHERE study_iuid = '' ORDER BY pk LIMIT ?", [limit + 1]);
  const pks = rows.map((r) => Number(r.pk));
  if (pks.length <= limit) return { count: pks.length, study_pks: pks };
  const [[n]] = await db.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM study WHERE study_iuid = ''");
  return { count: Number(n?.n ?? pks.length), study_pks: pks.slice(0, limit) };
}
