import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type mysql from 'mysql2/promise';
import { installCapture } from '../../../src/agent/sources/dcm4chee/capture-objects.js';
import { createLogger } from '../../../src/shared/logger.js';
import type { TestDatabase } from '../../helpers/mysql.js';
import { createPacsdb, type PacsdbFlavor } from '../../helpers/pacsdb.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const CLI = join(REPO_ROOT, 'dist/src/agent/main.js');
export const silentLog = createLogger({ level: 'silent' });

export const CENTER = '000';
export const KEY = 'key-000-secret';

/** A dcm4chee pacsdb with the capture objects installed. */
export async function createSite(flavor: PacsdbFlavor, prefix: string): Promise<TestDatabase> {
  const db = await createPacsdb(flavor, prefix);
  await installCapture(db.conn, db.name, silentLog);
  return db;
}

/** A working directory holding config.json and server.json, like a site's install folder. */
export function writeSiteConfig(db: TestDatabase, extra: Record<string, unknown> = {}, center = CENTER): string {
  const dir = mkdtempSync(join(tmpdir(), 'indexer-site-'));
  const o = db.options;
  const config = {
    database: { host: o.host, port: o.port, user: o.user, password: o.password ?? '', name: db.name },
    key: KEY,
    read_chunk: 50,
    batch_size: 20,
    http: { retries: 2, min_backoff_ms: 5, max_backoff_ms: 50, timeout_ms: 2000 },
    log: { level: 'info', format: 'json' },
    ...extra,
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  writeFileSync(join(dir, 'server.json'), JSON.stringify({ server: center }));
  return dir;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Env without the operator's INDEXER_* variables, so only the test's settings count. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('INDEXER_')) env[k] = v;
  return { ...env, ...extra };
}

export function spawnCli(args: string[], cwd: string, env: Record<string, string> = {}): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolveDone) => {
    child.on('close', (code, signal) => resolveDone({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

export function runCli(args: string[], cwd: string, env: Record<string, string> = {}): Promise<CliResult> {
  return spawnCli(args, cwd, env).done;
}

export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function stateValue(conn: mysql.Connection, name: string): Promise<string | null> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT value FROM indexer_state WHERE name = ?', [name]);
  return rows[0] ? (rows[0].value as string | null) : null;
}

export async function queueCount(conn: mysql.Connection): Promise<number> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM study_service WHERE seq > 0');
  return Number(rows[0]!.n);
}

export interface ExpectedStudy {
  study_iuid: string;
  study_pk: number;
  patient_pk: number | null;
  patient_id: string | null;
  patient_name: string | null;
  study_series: number;
  study_instances: number;
  study_modality: string | null;
  study_description: string | null;
}

/**
 * The source's truth, read independently of the agent: through the server's own charset
 * conversion (the writer stores real latin1), following merge_fk one level as the writer leaves it.
 */
export async function sourceStudies(conn: mysql.Connection): Promise<Map<string, ExpectedStudy>> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>(
    `SELECT s.study_iuid, s.pk AS study_pk, COALESCE(m.pk, p.pk) AS patient_pk,
       COALESCE(m.pat_id, p.pat_id) AS patient_id, COALESCE(m.pat_name, p.pat_name) AS patient_name,
       s.num_series AS study_series, s.num_instances AS study_instances, s.mods_in_study AS study_modality,
       s.study_desc AS study_description
     FROM study s LEFT JOIN patient p ON p.pk = s.patient_fk LEFT JOIN patient m ON m.pk = p.merge_fk`,
  );
  const out = new Map<string, ExpectedStudy>();
  for (const r of rows) out.set(String(r.study_iuid), { ...(r as ExpectedStudy), study_pk: Number(r.study_pk), patient_pk: r.patient_pk === null ? null : Number(r.patient_pk) });
  return out;
}

/** The receiver's live records projected on ExpectedStudy's fields. */
export function projectLive(records: Map<string, Record<string, unknown>>): Map<string, ExpectedStudy> {
  const out = new Map<string, ExpectedStudy>();
  for (const [iuid, r] of records) {
    if (r.deleted) continue;
    out.set(iuid, {
      study_iuid: String(r.study_iuid), study_pk: Number(r.study_pk), patient_pk: r.patient_pk as number | null,
      patient_id: r.patient_id as string | null, patient_name: r.patient_name as string | null,
      study_series: Number(r.study_series), study_instances: Number(r.study_instances),
      study_modality: r.study_modality as string | null, study_description: r.study_description as string | null,
    });
  }
  return out;
}
