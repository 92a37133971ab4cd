import mysql from 'mysql2/promise';
import type { Chunk } from './generator.js';
import {
  INSTANCE_COLUMNS, instanceRows, PATIENT_COLUMNS, patientRow, SERIES_COLUMNS, seriesRow, STUDY_COLUMNS, studyRow,
  type Row, type SiteInfo,
} from './rows.js';

export interface SeedCounts {
  patients: number;
  studies: number;
  series: number;
  instances: number;
}

/** A chunk turned into rows with their pks: ready for any connection to write. */
export interface PreparedChunk {
  counts: SeedCounts;
  /** INSERT statements, formatted lazily so formatting one overlaps the server running another. */
  statements: Array<() => string>;
}

/**
 * Rows per INSERT: a statement stays well under 1 MB, MySQL 5.5's default max_allowed_packet,
 * while large enough that round trips do not dominate.
 */
const ROWS_PER_STATEMENT = 1000;

function insertStatements(table: string, columns: string[], rows: Row[]): Array<() => string> {
  const sql = `INSERT INTO ${table} (${columns.join(', ')}) VALUES ?`;
  const out: Array<() => string> = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    out.push(() => mysql.format(sql, [rows.slice(i, i + ROWS_PER_STATEMENT)]));
  }
  return out;
}

async function maxPk(conn: mysql.Connection, table: string): Promise<number> {
  const [rows] = await conn.query(`SELECT MAX(pk) AS pk FROM ${table}`);
  const first = (rows as Array<{ pk: number | string | null }>)[0];
  return first?.pk == null ? 0 : Number(first.pk);
}

/**
 * Assigns pks and builds rows. Pks are handed out past the tables' last pk, read once, so studies
 * name their patient and series their study without reading anything back and several connections
 * can write chunks at once. The price: nothing else may insert patients, studies, series or
 * instances while seeding (the indexer's triggers may be installed: they write elsewhere).
 */
export class ChunkPreparer {
  /** pk of each centre patient by SeedPatient.index; a patient is inserted once, in its first chunk. */
  private readonly patientPks: number[] = [];
  private next = { patient: 0, study: 0, series: 0, instance: 0 };

  constructor(
    private readonly site: SiteInfo,
    private readonly withInstances: boolean,
  ) {}

  async init(conn: mysql.Connection): Promise<void> {
    this.next = {
      patient: await maxPk(conn, 'patient'),
      study: await maxPk(conn, 'study'),
      series: await maxPk(conn, 'series'),
      instance: this.withInstances ? await maxPk(conn, 'instance') : 0,
    };
  }

  prepare(chunk: Chunk): PreparedChunk {
    const n = this.next;
    const patients = chunk.patients.map((p) => {
      this.patientPks[p.index] = ++n.patient;
      return patientRow(p, n.patient);
    });
    const studies: Row[] = [];
    const series: Row[] = [];
    const instances: Row[] = [];
    for (const st of chunk.studies) {
      const patientFk = this.patientPks[st.patientIndex];
      if (patientFk === undefined) throw new Error(`study ${st.index}: patient ${st.patientIndex} has no row`);
      studies.push(studyRow(st, ++n.study, patientFk, this.site));
      for (const se of st.series) {
        series.push(seriesRow(se, ++n.series, st, n.study, this.site));
        if (!this.withInstances) continue;
        for (const row of instanceRows(se, n.instance + 1, n.series, st, this.site)) instances.push(row);
        n.instance += se.instances;
      }
    }
    return {
      counts: { patients: patients.length, studies: studies.length, series: series.length, instances: instances.length },
      statements: [
        ...insertStatements('patient', PATIENT_COLUMNS, patients),
        ...insertStatements('study', STUDY_COLUMNS, studies),
        ...insertStatements('series', SERIES_COLUMNS, series),
        ...insertStatements('instance', INSTANCE_COLUMNS, instances),
      ],
    };
  }
}

/**
 * Session settings of a seeding connection. Rows reference parents written by the same chunk or
 * an earlier one that another connection may not have committed yet; the generator guarantees the
 * references, so foreign key checks would only make connections wait for each other.
 */
export async function prepareSession(conn: mysql.Connection): Promise<void> {
  await conn.query('SET SESSION foreign_key_checks = 0');
}

/** Writes one prepared chunk in one transaction, formatting the next statement while one runs. */
export async function writeChunk(conn: mysql.Connection, chunk: PreparedChunk): Promise<void> {
  await conn.query('START TRANSACTION');
  try {
    let inFlight: Promise<unknown> | undefined;
    for (const make of chunk.statements) {
      const sql = make();
      await inFlight;
      inFlight = conn.query(sql);
    }
    await inFlight;
    await conn.query('COMMIT');
  } catch (err) {
    await conn.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
