import { request } from 'node:http';
import { performance } from 'node:perf_hooks';
import mysql from 'mysql2/promise';

/**
 * The legacy client (`python client.py initial`, ../shared/reference/legacy-protocol.md) in Node,
 * for figure 2: the same query (patient LEFT JOIN study, every row fetched into memory at once),
 * then one POST per row to /api/v1/register with X-Api-Key, sequential, status ignored, no retry.
 * Deliberate differences, stated in the report: no 2 s sleep every 1000 posts, and the posts may
 * stop after `sample` rows, the total time then extrapolated from the measured per-post time.
 */
export interface LegacyOptions {
  /** Connection to the centre's pacsdb. */
  db: mysql.ConnectionOptions;
  /** The centre code (server.json `server`). */
  center: string;
  key: string;
  /** webservice_url, e.g. http://127.0.0.1:8899/api/v1/register. */
  webserviceUrl: string;
  /** Rows actually posted (default: all). */
  sample?: number;
}

export interface LegacyResult {
  /** Rows the legacy query returned (studies, plus patients without a study). */
  rows: number;
  studies: number;
  querySeconds: number;
  posted: number;
  postSeconds: number;
  /** HTTP status → count over the posted sample (the legacy client never looks at it). */
  statuses: Record<string, number>;
  /** Query + every row posted at the measured pace. */
  extrapolatedSeconds: number;
  studiesPerSecond: number;
  sleepsOmittedSeconds: number;
  extrapolated: boolean;
}

/** The legacy seed fields, exactly as client.py selects them (no study_service join under `initial`). */
const LEGACY_QUERY = `SELECT patient.pk AS patient_pk, patient.pat_id AS patient_id, patient.pat_name AS patient_name,
  study.pk AS study_pk, study.study_iuid AS study_iuid, study.study_datetime AS study_datetime,
  study.study_desc AS study_description, study.mods_in_study AS study_modality,
  study.num_series AS study_series, study.num_instances AS study_instances
FROM patient LEFT JOIN study ON study.patient_fk = patient.pk`;

/** requests.post(): a new connection per call (no Session, so no keep-alive), closed after. */
function postOnce(url: URL, key: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-api-key': key },
    }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end(body);
  });
}

/** Python's json.dumps of the row dict, with `center` added and str(datetime) ("None" for NULL). */
function legacyBody(row: Record<string, unknown>, center: string): string {
  return JSON.stringify({ ...row, study_datetime: row.study_datetime === null ? 'None' : String(row.study_datetime), center });
}

export async function runLegacyClient(opts: LegacyOptions): Promise<LegacyResult> {
  const conn = await mysql.createConnection({ ...opts.db, dateStrings: true });
  const url = new URL(opts.webserviceUrl);
  try {
    const q0 = performance.now();
    const [rows] = await conn.query<mysql.RowDataPacket[]>(LEGACY_QUERY);
    const querySeconds = (performance.now() - q0) / 1000;
    const studies = rows.filter((r) => r.study_pk !== null).length;
    const limit = Math.min(rows.length, opts.sample ?? rows.length);
    const statuses: Record<string, number> = {};
    const p0 = performance.now();
    for (let i = 0; i < limit; i += 1) {
      const status = await postOnce(url, opts.key, legacyBody(rows[i]!, opts.center));
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
    const postSeconds = (performance.now() - p0) / 1000;
    const extrapolatedSeconds = querySeconds + (limit > 0 ? (postSeconds / limit) * rows.length : 0);
    return {
      rows: rows.length, studies, querySeconds, posted: limit, postSeconds, statuses, extrapolatedSeconds,
      studiesPerSecond: studies / extrapolatedSeconds,
      sleepsOmittedSeconds: 2 * Math.floor(rows.length / 1000),
      extrapolated: limit < rows.length,
    };
  } finally {
    await conn.end().catch(() => undefined);
  }
}
