import type mysql from 'mysql2/promise';
import { Dcm4cheeWriter } from '../../helpers/dcm4chee-writer.js';
import type { PatientDataRegistry } from './patient-data.js';
import type { Prng } from './prng.js';

const MODALITIES = ['CT', 'MR', 'CR', 'US', 'DX', 'SR', 'PT'];

/**
 * Writes a dcm4chee pacsdb like a busy centre (through the dcm4chee-like writer), with patient
 * identities from the registry, and remembers what it deleted so tombstones can be expected.
 */
export class FaultSiteWriter {
  writer: Dcm4cheeWriter;
  readonly deletedIuids = new Set<string>();
  private readonly patients: number[] = [];
  private readonly studies: { pk: number; iuid: string }[] = [];
  private serial = 0;

  constructor(private conn: mysql.Connection, private readonly rng: Prng, private readonly ids: PatientDataRegistry) {
    this.writer = new Dcm4cheeWriter(conn);
  }

  /** Continues on a new connection (after the PACS server was restarted). */
  useConnection(conn: mysql.Connection): void {
    this.conn = conn;
    this.writer = new Dcm4cheeWriter(conn);
  }

  /** `n` new studies (a new patient for about half of them), each with one or two series. */
  async addStudies(n: number): Promise<void> {
    for (let done = 0; done < n; done += 25) await this.inTransaction(() => this.addStudiesNow(Math.min(25, n - done)));
  }

  /** `n` random changes of every kind the capture must follow, a few per transaction. */
  async churn(n: number): Promise<void> {
    for (let done = 0; done < n; done += 10) await this.inTransaction(() => this.churnNow(Math.min(10, n - done)));
  }

  /**
   * Groups writes: the shared test server syncs every commit to disk. Merges and deletions open
   * their own transaction, which commits the enclosing one first: harmless here.
   */
  private async inTransaction(work: () => Promise<void>): Promise<void> {
    await this.conn.query('START TRANSACTION');
    try {
      await work();
      await this.conn.query('COMMIT');
    } catch (err) {
      await this.conn.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  private async addStudiesNow(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      if (this.patients.length === 0 || this.rng.chance(0.5)) {
        const p = this.ids.identity();
        this.patients.push(await this.writer.createPatient({ patId: p.patId, name: p.name, birthdate: p.birthdate, sex: p.sex, issuer: p.issuer }));
      }
      await this.addStudy(this.rng.pick(this.patients));
    }
  }

  private async churnNow(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const op = this.rng.int(0, 9);
      if (op <= 2 || this.studies.length < 4) await this.addStudiesNow(1);
      else if (op === 3) await this.writer.addSeries(this.rng.pick(this.studies).pk, { modality: this.rng.pick(MODALITIES), instances: 1 });
      else if (op === 4) await this.writer.renamePatient(this.rng.pick(this.patients), this.ids.newName());
      else if (op === 5) await this.writer.fixPatientId(this.rng.pick(this.patients), this.ids.identity().patId);
      else if (op === 6) await this.writer.updateStudy(this.rng.pick(this.studies).pk, { desc: `ESTUDIO CORREGIDO ${++this.serial}` });
      else if (op === 7 && this.patients.length > 3) await this.merge();
      else await this.deleteOne();
    }
  }

  private async addStudy(patientPk: number): Promise<void> {
    this.serial += 1;
    const iuid = this.writer.uid();
    const day = `20${this.rng.int(15, 24)}-${String(this.rng.int(1, 12)).padStart(2, '0')}-${String(this.rng.int(1, 28)).padStart(2, '0')}`;
    const pk = await this.writer.storeStudy(patientPk, {
      iuid,
      datetime: this.rng.chance(0.05) ? null : `${day} ${String(this.rng.int(0, 23)).padStart(2, '0')}:${String(this.rng.int(0, 59)).padStart(2, '0')}:17`,
      desc: `ESTUDIO FALLA ${this.serial}`,
      accession: `ACF${this.serial}`,
      studyId: `SF${this.serial}`,
      refPhysician: 'DR^REFERENTE',
    });
    for (let s = this.rng.int(1, 2); s > 0; s--) await this.writer.addSeries(pk, { modality: this.rng.pick(MODALITIES), instances: this.rng.int(1, 2) });
    this.studies.push({ pk, iuid });
  }

  private async merge(): Promise<void> {
    const dominant = this.patients[this.patients.length - 1]!;
    const prior = this.patients.splice(this.rng.int(0, this.patients.length - 2), 1)[0]!;
    await this.writer.mergePatients(dominant, prior, this.rng.chance(0.5) ? 'link' : 'delete');
  }

  private async deleteOne(): Promise<void> {
    const victim = this.studies.splice(this.rng.int(0, this.studies.length - 1), 1)[0];
    if (!victim) return;
    await this.writer.deleteStudy(victim.pk);
    this.deletedIuids.add(victim.iuid);
  }
}

/** The contract fields compared record by record (source_seq is checked apart: it is the agent's). */
export type ComparableRecord = Record<string, unknown>;

/**
 * The records the receiver must hold for the live studies, computed from the source by SQL of
 * its own (not the agent's reader): merged patients followed one level, as the writer leaves them.
 */
export async function expectedRecords(conn: mysql.Connection, center: string): Promise<Map<string, ComparableRecord>> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>(
    `SELECT s.study_iuid, s.pk AS study_pk, COALESCE(m.pk, p.pk) AS patient_pk,
       COALESCE(m.pat_id, p.pat_id) AS patient_id, IF(m.pk IS NULL, p.pat_id_issuer, m.pat_id_issuer) AS patient_id_issuer,
       COALESCE(m.pat_name, p.pat_name) AS patient_name, COALESCE(m.pat_birthdate, p.pat_birthdate) AS birth,
       IF(m.pk IS NULL, p.pat_sex, m.pat_sex) AS patient_sex,
       DATE_FORMAT(s.study_datetime, '%Y-%m-%dT%H:%i:%s') AS study_datetime, s.study_desc AS study_description,
       s.mods_in_study AS study_modality, s.num_series AS study_series, s.num_instances AS study_instances,
       s.accession_no, s.study_id, s.ref_physician AS referring_physician
     FROM study s LEFT JOIN patient p ON p.pk = s.patient_fk LEFT JOIN patient m ON m.pk = p.merge_fk`,
  );
  const out = new Map<string, ComparableRecord>();
  for (const r of rows) {
    const birth = r.birth as string | null;
    const mods = r.study_modality as string | null;
    out.set(String(r.study_iuid), {
      center,
      study_iuid: String(r.study_iuid),
      study_pk: Number(r.study_pk),
      patient_pk: r.patient_pk === null ? null : Number(r.patient_pk),
      patient_id: r.patient_id,
      patient_id_issuer: r.patient_id_issuer,
      patient_name: r.patient_name,
      patient_birthdate: birth ? `${birth.slice(0, 4)}-${birth.slice(4, 6)}-${birth.slice(6, 8)}` : null,
      patient_sex: r.patient_sex,
      study_datetime: r.study_datetime,
      study_description: r.study_description,
      study_modality: mods,
      modalities: mods ? mods.split('\\') : [],
      study_series: Number(r.study_series),
      study_instances: Number(r.study_instances),
      accession_no: r.accession_no,
      study_id: r.study_id,
      referring_physician: r.referring_physician,
      deleted: false,
    });
  }
  return out;
}

export const COMPARED_FIELDS = [
  'center', 'study_iuid', 'study_pk', 'patient_pk', 'patient_id', 'patient_id_issuer', 'patient_name', 'patient_birthdate',
  'patient_sex', 'study_datetime', 'study_description', 'study_modality', 'modalities', 'study_series', 'study_instances',
  'accession_no', 'study_id', 'referring_physician', 'deleted',
] as const;

export function project(record: Record<string, unknown>): ComparableRecord {
  const out: ComparableRecord = {};
  for (const f of COMPARED_FIELDS) out[f] = record[f] ?? null;
  if (!Array.isArray(out.modalities)) out.modalities = [];
  return out;
}
