import { randomBytes } from 'node:crypto';
import type mysql from 'mysql2/promise';

/**
 * Writes a pacsdb the way dcm4chee 2.x does (see ../shared/pacsdb/README.md, "Facts"), so tests
 * and the benchmark exercise the capture triggers with the real statement shapes: a study INSERTed
 * bare, its derived fields UPDATEd as series complete, patients corrected and merged, studies
 * moved to the trash. Works on the project's fixture and on the upstream DDL.
 * Text goes through the connection's charset (utf8mb4 in tests) into the latin1 columns.
 */
export interface PatientInput {
  patId: string | null;
  issuer?: string | null;
  /** DICOM PN `FAMILY^GIVEN`; upper-cased like dcm4chee does. */
  name: string | null;
  /** `YYYYMMDD` as stored (VARCHAR), messy values allowed. */
  birthdate?: string | null;
  sex?: string | null;
}

export interface StudyInput {
  iuid?: string;
  /** `YYYY-MM-DD HH:MM:SS` or null. */
  datetime?: string | null;
  desc?: string | null;
  accession?: string | null;
  studyId?: string | null;
  refPhysician?: string | null;
}

export interface SeriesInput {
  modality: string;
  instances: number;
  iuid?: string;
  /** SOP class of the instances (CT Image Storage unless told). */
  cuid?: string;
  aet?: string;
}

export interface PatientFields {
  patId?: string | null;
  issuer?: string | null;
  name?: string | null;
  birthdate?: string | null;
  sex?: string | null;
  custom1?: string | null;
  attrs?: Buffer | null;
}

export interface StudyFields {
  desc?: string | null;
  accession?: string | null;
  studyId?: string | null;
  refPhysician?: string | null;
  datetime?: string | null;
  custom1?: string | null;
}

const PATIENT_COLUMNS: Record<keyof PatientFields, string> = {
  patId: 'pat_id',
  issuer: 'pat_id_issuer',
  name: 'pat_name',
  birthdate: 'pat_birthdate',
  sex: 'pat_sex',
  custom1: 'pat_custom1',
  attrs: 'pat_attrs',
};

const STUDY_COLUMNS: Record<keyof StudyFields, string> = {
  desc: 'study_desc',
  accession: 'accession_no',
  studyId: 'study_id',
  refPhysician: 'ref_physician',
  datetime: 'study_datetime',
  custom1: 'study_custom1',
};

const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
/** dcm4chee's Availability.ONLINE. */
const ONLINE = 0;

type Conn = mysql.Connection;
interface IdRow extends mysql.RowDataPacket { pk: number }

export class Dcm4cheeWriter {
  private readonly uidRoot = `1.2.826.0.1.3680043.9.7433.${parseInt(randomBytes(4).toString('hex'), 16)}`;
  private uidCounter = 0;

  constructor(
    private readonly conn: Conn,
    private readonly aet = 'DCM4CHEE',
  ) {}

  /** A UID unique to this writer (DICOM UIDs are digits and dots, at most 64 characters). */
  uid(): string {
    this.uidCounter += 1;
    return `${this.uidRoot}.${Date.now() % 1e9}.${this.uidCounter}`;
  }

  async createPatient(p: PatientInput): Promise<number> {
    const [res] = await this.conn.query<mysql.ResultSetHeader>(
      `INSERT INTO patient (pat_id, pat_id_issuer, pat_name, pat_birthdate, pat_sex,
         created_time, updated_time, pat_attrs) VALUES (?, ?, ?, ?, ?, NOW(), NOW(), ?)`,
      [p.patId, p.issuer ?? null, upper(p.name), p.birthdate ?? null, p.sex ?? null, randomBytes(64)],
    );
    return res.insertId;
  }

  /** The first instance of a study arrived: the row is bare (no series, no instances yet). */
  async storeStudy(patientPk: number, s: StudyInput = {}): Promise<number> {
    const [res] = await this.conn.query<mysql.ResultSetHeader>(
      `INSERT INTO study (patient_fk, study_iuid, study_id, study_datetime, accession_no, ref_physician,
         study_desc, num_series, num_instances, availability, study_status,
         created_time, updated_time, checked_time, study_attrs)
       VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, 0, 0, NOW(), NOW(), NOW(), ?)`,
      [
        patientPk,
        s.iuid ?? this.uid(),
        s.studyId ?? null,
        s.datetime === undefined ? '2024-03-22 10:15:00' : s.datetime,
        s.accession ?? null,
        upper(s.refPhysician ?? null),
        s.desc ?? null,
        randomBytes(128),
      ],
    );
    return res.insertId;
  }

  /** A series completed: its rows go in, then the study's derived fields are recomputed. */
  async addSeries(studyPk: number, s: SeriesInput): Promise<number> {
    const aet = s.aet ?? this.aet;
    const [res] = await this.conn.query<mysql.ResultSetHeader>(
      `INSERT INTO series (study_fk, series_iuid, modality, num_instances, src_aet, retrieve_aets,
         availability, series_status, created_time, updated_time, series_attrs)
       VALUES (?, ?, ?, ?, ?, ?, ?, 0, NOW(), NOW(), ?)`,
      [studyPk, s.iuid ?? this.uid(), s.modality, s.instances, aet, aet, ONLINE, randomBytes(64)],
    );
    const seriesPk = res.insertId;
    if (s.instances > 0) {
      const cuid = s.cuid ?? CT_IMAGE_STORAGE;
      const values: unknown[] = [];
      for (let i = 1; i <= s.instances; i += 1) {
        values.push(seriesPk, this.uid(), cuid, String(i), aet, ONLINE, randomBytes(32));
      }
      await this.conn.query(
        `INSERT INTO instance (series_fk, sop_iuid, sop_cuid, inst_no, retrieve_aets, availability,
           inst_status, all_attrs, commitment, archived, created_time, updated_time, inst_attrs)
         VALUES ${Array(s.instances).fill('(?, ?, ?, ?, ?, ?, 0, 1, 0, 0, NOW(), NOW(), ?)').join(', ')}`,
        values,
      );
    }
    await this.updateDerivedFields(studyPk);
    return seriesPk;
  }

  /** What dcm4chee's StudyBean.updateDerivedFields does: recompute from series and instances. */
  async updateDerivedFields(studyPk: number): Promise<void> {
    interface Derived extends mysql.RowDataPacket {
      num_series: number; num_instances: number | null; mods: string | null; aets: string | null; avail: number | null;
    }
    const [[d]] = await this.conn.query<Derived[]>(
      `SELECT COUNT(*) num_series, SUM(num_instances) num_instances,
         GROUP_CONCAT(DISTINCT modality ORDER BY modality SEPARATOR '\\\\') mods,
         GROUP_CONCAT(DISTINCT retrieve_aets SEPARATOR '\\\\') aets, MAX(availability) avail
       FROM series WHERE study_fk = ?`,
      [studyPk],
    );
    interface Cuids extends mysql.RowDataPacket { cuids: string | null }
    const [[c]] = await this.conn.query<Cuids[]>(
      `SELECT GROUP_CONCAT(DISTINCT i.sop_cuid SEPARATOR '\\\\') cuids
       FROM instance i JOIN series s ON s.pk = i.series_fk WHERE s.study_fk = ?`,
      [studyPk],
    );
    await this.conn.query(
      `UPDATE study SET num_series = ?, num_instances = ?, mods_in_study = ?, cuids_in_study = ?,
         retrieve_aets = ?, availability = ?, updated_time = NOW() WHERE pk = ?`,
      [d!.num_series, Number(d!.num_instances ?? 0), d!.mods, c!.cuids, d!.aets, d!.avail ?? 0, studyPk],
    );
  }

  async updatePatient(pk: number, fields: PatientFields): Promise<void> {
    const entries = Object.entries(fields) as [keyof PatientFields, PatientFields[keyof PatientFields]][];
    if (entries.length === 0) return;
    const sets = entries.map(([k]) => `${PATIENT_COLUMNS[k]} = ?`).join(', ');
    const values = entries.map(([k, v]) => (k === 'name' ? upper(v as string | null) : v));
    await this.conn.query(`UPDATE patient SET ${sets}, updated_time = NOW() WHERE pk = ?`, [...values, pk]);
  }

  renamePatient(pk: number, name: string | null): Promise<void> {
    return this.updatePatient(pk, { name });
  }

  fixPatientId(pk: number, patId: string | null, issuer?: string | null): Promise<void> {
    return this.updatePatient(pk, issuer === undefined ? { patId } : { patId, issuer });
  }

  async updateStudy(pk: number, fields: StudyFields): Promise<void> {
    const entries = Object.entries(fields) as [keyof StudyFields, StudyFields[keyof StudyFields]][];
    if (entries.length === 0) return;
    const sets = entries.map(([k]) => `${STUDY_COLUMNS[k]} = ?`).join(', ');
    await this.conn.query(`UPDATE study SET ${sets}, updated_time = NOW() WHERE pk = ?`, [...entries.map(([, v]) => v), pk]);
  }

  /**
   * Merge: the prior patient's studies (and MPPS) move to the dominant one, then the prior is
   * either linked to it (merge_fk) or deleted; patients merged into the prior follow it.
   */
  async mergePatients(dominantPk: number, priorPk: number, mode: 'link' | 'delete'): Promise<void> {
    await this.inTransaction(async () => {
      await this.conn.query('UPDATE study SET patient_fk = ?, updated_time = NOW() WHERE patient_fk = ?', [dominantPk, priorPk]);
      await this.conn.query('UPDATE mpps SET patient_fk = ? WHERE patient_fk = ?', [dominantPk, priorPk]);
      await this.conn.query('UPDATE patient SET merge_fk = ? WHERE merge_fk = ?', [dominantPk, priorPk]);
      if (mode === 'link') {
        await this.conn.query('UPDATE patient SET merge_fk = ?, updated_time = NOW() WHERE pk = ?', [dominantPk, priorPk]);
      } else {
        await this.conn.query('DELETE FROM patient WHERE pk = ?', [priorPk]);
      }
    });
  }

  /** Moves the study to the trash (priv_*), then deletes instances, series and the study. */
  async deleteStudy(pk: number): Promise<void> {
    await this.inTransaction(async () => {
      const [res] = await this.conn.query<mysql.ResultSetHeader>(
        `INSERT INTO priv_patient (priv_type, pat_id, pat_id_issuer, pat_name, pat_attrs)
         SELECT 1, p.pat_id, p.pat_id_issuer, p.pat_name, p.pat_attrs
         FROM study s LEFT JOIN patient p ON p.pk = s.patient_fk WHERE s.pk = ?`,
        [pk],
      );
      const [st] = await this.conn.query<mysql.ResultSetHeader>(
        `INSERT INTO priv_study (patient_fk, priv_type, study_iuid, accession_no, study_attrs)
         SELECT ?, 1, study_iuid, accession_no, study_attrs FROM study WHERE pk = ?`,
        [res.insertId, pk],
      );
      const [series] = await this.conn.query<IdRow[]>('SELECT pk FROM series WHERE study_fk = ?', [pk]);
      for (const { pk: seriesPk } of series) {
        const [ps] = await this.conn.query<mysql.ResultSetHeader>(
          `INSERT INTO priv_series (study_fk, priv_type, series_iuid, src_aet, series_attrs)
           SELECT ?, 1, series_iuid, src_aet, series_attrs FROM series WHERE pk = ?`,
          [st.insertId, seriesPk],
        );
        await this.conn.query(
          `INSERT INTO priv_instance (series_fk, priv_type, sop_iuid, created_time, inst_attrs)
           SELECT ?, 1, sop_iuid, created_time, inst_attrs FROM instance WHERE series_fk = ?`,
          [ps.insertId, seriesPk],
        );
        await this.conn.query('DELETE FROM instance WHERE series_fk = ?', [seriesPk]);
      }
      await this.conn.query('DELETE FROM series WHERE study_fk = ?', [pk]);
      await this.conn.query('DELETE FROM study WHERE pk = ?', [pk]);
    });
  }

  /** The consistency check: rewrites checked_time, nothing visible changes. */
  async touchCheckedTime(pk: number, at?: string): Promise<void> {
    await this.conn.query(
      at === undefined
        ? 'UPDATE study SET checked_time = NOW() WHERE pk = ?'
        : 'UPDATE study SET checked_time = ? WHERE pk = ?',
      at === undefined ? [pk] : [at, pk],
    );
  }

  /** Rewrites the study's dataset blob only (e.g. an attribute not indexed in columns). */
  async setStudyAttrs(pk: number, bytes: Buffer): Promise<void> {
    await this.conn.query('UPDATE study SET study_attrs = ? WHERE pk = ?', [bytes, pk]);
  }

  private async inTransaction(work: () => Promise<void>): Promise<void> {
    await this.conn.beginTransaction();
    try {
      await work();
      await this.conn.commit();
    } catch (err) {
      await this.conn.rollback().catch(() => undefined);
      throw err;
    }
  }
}

function upper(value: string | null): string | null {
  return value === null ? null : value.toUpperCase();
}
