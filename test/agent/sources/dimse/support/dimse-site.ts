import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DimseClient } from '../../../../../src/agent/sources/dimse/dimse-client.js';
import { addDays, localDay } from '../../../../../src/agent/sources/dimse/study-days.js';
import type { CentralReceiver } from '../../../../helpers/central-receiver.js';

export const CENTER = '000';
export const KEY = 'key-000-secret';
export const INDEXER_AET = 'INDEXER';

/** A day relative to today (the agent's local date), as DICOM DA. */
export function daysAgo(n: number): string {
  return addDays(localDay(new Date()), -n).replace(/-/g, '');
}

/** The centre's config.json for `source: dimse` against a PACS on loopback; `top`: other top-level keys (read_chunk, protocol). */
export function writeDimseConfig(
  dir: string, receiverUrl: string, pacs: { port: number; aet: string }, dimse: Record<string, unknown> = {}, top: Record<string, unknown> = {},
): string {
  const path = join(dir, 'config.json');
  writeFileSync(path, JSON.stringify({
    source: 'dimse', url: receiverUrl, key: KEY, center: CENTER,
    dimse: {
      host: '127.0.0.1', port: pacs.port, called_aet: pacs.aet, calling_aet: INDEXER_AET, state_file: join(dir, 'dimse-state.json'),
      pause_ms: 0, history_from: addDays(localDay(new Date()), -6 * 365), query_timeout_ms: 20_000, ...dimse,
    },
    http: { retries: 1, min_backoff_ms: 5, max_backoff_ms: 20 }, log: { format: 'json' }, ...top,
  }));
  return path;
}

/** What a comparison looks at: identity, names, dates, counts, modalities. */
export interface HeldStudy {
  patient_id: string | null;
  patient_name: string | null;
  study_datetime: string | null;
  study_series: number | null;
  study_instances: number | null;
  modalities: string[];
}

/** The PACS's studies over its whole history, as C-FIND tells them. */
export async function pacsContent(pacs: { port: number; aet: string }, fromDay: string): Promise<Map<string, HeldStudy>> {
  const client = new DimseClient({ host: '127.0.0.1', port: pacs.port, calledAet: pacs.aet, callingAet: INDEXER_AET });
  const result = await client.findStudies({ StudyDate: `${fromDay}-` });
  if (result.status !== 'success') throw new Error(`reference C-FIND ended ${result.status}`);
  return new Map(result.answers.map((a) => [a.studyInstanceUid, {
    patient_id: a.patientId, patient_name: a.patientName, study_datetime: a.studyDateTime,
    study_series: a.series, study_instances: a.instances, modalities: a.modalities,
  }]));
}

/** The receiver's live studies of the centre. */
export async function receiverContent(receiver: CentralReceiver): Promise<Map<string, HeldStudy>> {
  const out = new Map<string, HeldStudy>();
  for (const [uid, r] of await receiver.held(CENTER)) {
    if (r.deleted) continue;
    out.set(uid, {
      patient_id: r.patient_id, patient_name: r.patient_name, study_datetime: r.study_datetime,
      study_series: r.study_series, study_instances: r.study_instances, modalities: r.modalities,
    });
  }
  return out;
}

/** The receiver's rows of every centre, and how many distinct studies they are (equal: no duplicate). */
export async function storedRows(receiver: CentralReceiver): Promise<{ rows: number; studies: number }> {
  const [rows] = await receiver.receiver.pool.query('SELECT COUNT(*) AS n, COUNT(DISTINCT study_iuid) AS u FROM studies');
  const row = (rows as { n: number | string; u: number | string }[])[0]!;
  return { rows: Number(row.n), studies: Number(row.u) };
}
