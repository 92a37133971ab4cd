import type mysql from 'mysql2/promise';
import { expect } from 'vitest';
import { Dcm4cheeWriter } from '../../../helpers/dcm4chee-writer.js';
import { writeMix } from '../../../helpers/dcm4chee-write-mix.js';
import { projectLive, sourceStudies } from '../../support/agent-harness.js';

/** The capture triggers, as a PACS upgrade or a DBA might drop them. */
export const TRIGGERS = ['indexer_study_ai', 'indexer_study_au', 'indexer_study_ad', 'indexer_patient_au'];

export async function dropTriggers(conn: mysql.Connection): Promise<void> {
  for (const t of TRIGGERS) await conn.query(`DROP TRIGGER IF EXISTS ${t}`);
}

/** Every study's datetime as the record carries it (zero and impossible dates: null), by iuid. */
export async function sourceDatetimes(conn: mysql.Connection): Promise<Map<string, string | null>> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>(
    `SELECT study_iuid, IF(study_datetime IS NULL OR YEAR(study_datetime) = 0 OR MONTH(study_datetime) = 0
       OR DAYOFMONTH(study_datetime) = 0, NULL, DATE_FORMAT(study_datetime, '%Y-%m-%dT%H:%i:%s')) AS dt FROM study`,
  );
  return new Map(rows.map((r) => [String(r.study_iuid), r.dt === null ? null : String(r.dt)]));
}

/**
 * The receiver's records equal the source, record by record: every live source study with its
 * fields (read independently of the agent) and its date; every other iuid a tombstone.
 */
export async function expectHeldEqualsSource(held: Map<string, Record<string, unknown>>, conn: mysql.Connection): Promise<void> {
  const source = await sourceStudies(conn);
  expect(projectLive(held)).toEqual(source);
  const dates = await sourceDatetimes(conn);
  for (const [iuid, dt] of dates) expect(held.get(iuid)?.study_datetime ?? null, iuid).toBe(dt);
  for (const [iuid, r] of held) if (!source.has(iuid)) expect(r.deleted, iuid).toBe(true);
}

/** Studies spread over several days, with undated ones (NULL and zero dates): a realistic mix. */
export async function writeDays(writer: Dcm4cheeWriter, conn: mysql.Connection, n: number): Promise<void> {
  await writeMix(writer, n);
  const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT pk FROM study ORDER BY pk');
  let i = 0;
  for (const { pk } of rows) {
    i += 1;
    const datetime = i % 17 === 0 ? null : i % 19 === 0 ? '0000-00-00 00:00:00' : `2024-0${1 + (i % 5)}-1${i % 7} 0${i % 10}:15:00`;
    await conn.query('UPDATE study SET study_datetime = ? WHERE pk = ?', [datetime, pk]);
  }
}

export function reconcileReport(stderr: string, msg = 'reconcile finished'): Record<string, unknown> {
  const line = stderr.split('\n').find((l) => l.includes(`"msg":"${msg}"`));
  expect(line, stderr).toBeTruthy();
  return JSON.parse(line!) as Record<string, unknown>;
}
