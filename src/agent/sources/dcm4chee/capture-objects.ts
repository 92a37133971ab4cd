import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type mysql from 'mysql2/promise';
import { DatabaseError } from '../../../shared/errors.js';
import type { Logger } from '../../../shared/logger.js';
import { runCaptureScript } from './capture-ddl.js';
import { preflightCapture } from './capture-requirements.js';
import type { CaptureStatus, QueueShape, TriggerInfo } from './capture-status.js';
import type { PacsConnection, PacsQueryable } from './pacs-db.js';

export type { CaptureStatus, QueueShape, TriggerInfo } from './capture-status.js';

/** Version of the objects sql/pacs/install.sql creates (it writes the same number to indexer_state). */
export const SCHEMA_VERSION = 1;

export const CAPTURE_TRIGGERS = ['indexer_study_ai', 'indexer_study_au', 'indexer_study_ad', 'indexer_patient_au'] as const;
export const LEGACY_TRIGGER = 'indexer_process';
const QUEUE_COLUMNS = ['seq', 'study_pk', 'op', 'study_iuid', 'queued_at'];
/** The AFTER slots our triggers occupy: MySQL 5.5/5.6 allow one trigger per table, timing and event. */
const NEEDED_SLOTS = ['study/AFTER/INSERT', 'study/AFTER/UPDATE', 'study/AFTER/DELETE', 'patient/AFTER/UPDATE'];

interface NameRow extends mysql.RowDataPacket { name: string }
interface TriggerRow extends mysql.RowDataPacket { name: string; tbl: string; timing: string; event: string; definer: string }
interface ValueRow extends mysql.RowDataPacket { value: string | null }
interface UserRow extends mysql.RowDataPacket { user: string }

export async function inspectCapture(conn: PacsQueryable, dbName: string): Promise<CaptureStatus> {
  const [tables] = await conn.query<NameRow[]>(
    `SELECT TABLE_NAME AS name FROM information_schema.TABLES
     WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN ('study_service', 'indexer_state', 'indexer_dead_letter', 'indexer_legacy_queue')`,
    [dbName],
  );
  const has = new Set(tables.map((r) => r.name.toLowerCase()));
  const [columns] = await conn.query<NameRow[]>(
    `SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'study_service'`,
    [dbName],
  );
  const [triggerRows] = await conn.query<TriggerRow[]>(
    `SELECT TRIGGER_NAME AS name, EVENT_OBJECT_TABLE AS tbl, ACTION_TIMING AS timing, EVENT_MANIPULATION AS event, DEFINER AS definer
     FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?`,
    [dbName],
  );
  const triggers = triggerRows.map((r) => ({ name: r.name, table: r.tbl, timing: r.timing, event: r.event, definer: String(r.definer) }));
  const names = new Set(triggers.map((t) => t.name));
  const ours = new Set<string>([...CAPTURE_TRIGGERS, LEGACY_TRIGGER]);
  const foreignTriggers = triggers.filter((t) => ['study', 'patient'].includes(t.table.toLowerCase()) && !ours.has(t.name));
  const conflicts = foreignTriggers.filter((t) => NEEDED_SLOTS.includes(`${t.table.toLowerCase()}/${t.timing}/${t.event}`));
  const schemaVersion = has.has('indexer_state') ? await readSchemaVersion(conn, dbName) : null;
  const queue = queueShape(columns.map((c) => c.name.toLowerCase()));
  const presentTriggers = CAPTURE_TRIGGERS.filter((n) => names.has(n));
  const installed = queue === 'new' && has.has('indexer_state') && has.has('indexer_dead_letter') && presentTriggers.length === CAPTURE_TRIGGERS.length;
  return {
    database: dbName,
    queue,
    stateTable: has.has('indexer_state'),
    deadLetterTable: has.has('indexer_dead_letter'),
    legacyQueueTable: has.has('indexer_legacy_queue'),
    schemaVersion,
    presentTriggers,
    definers: [...new Set(triggers.filter((t) => (CAPTURE_TRIGGERS as readonly string[]).includes(t.name)).map((t) => t.definer))],
    missingTriggers: CAPTURE_TRIGGERS.filter((n) => !names.has(n)),
    legacyTrigger: names.has(LEGACY_TRIGGER),
    foreignTriggers,
    conflicts,
    installed,
    current: installed && schemaVersion === SCHEMA_VERSION,
  };
}

function queueShape(columns: string[]): QueueShape {
  if (columns.length === 0) return 'missing';
  if (!columns.includes('seq')) return 'legacy';
  return QUEUE_COLUMNS.every((c) => columns.includes(c)) ? 'new' : 'outdated';
}

async function readSchemaVersion(conn: PacsQueryable, dbName: string): Promise<number | null> {
  const [rows] = await conn.query<ValueRow[]>(`SELECT value FROM ${quoteIdent(dbName)}.indexer_state WHERE name = 'schema_version'`);
  const value = Number(rows[0]?.value);
  return rows[0] && Number.isInteger(value) ? value : null;
}

/** What is wrong with the capture objects, one line each, for `indexer check` (empty: all is well). */
export function captureProblems(s: CaptureStatus): string[] {
  const missing: string[] = [];
  if (s.queue === 'missing') missing.push('change queue table study_service is missing');
  if (!s.stateTable) missing.push('state table indexer_state is missing');
  if (!s.deadLetterTable) missing.push('table indexer_dead_letter is missing');
  if (s.missingTriggers.length > 0) missing.push(`triggers missing: ${s.missingTriggers.join(', ')}`);
  const problems: string[] = [];
  const nothing = s.queue === 'missing' && !s.stateTable && !s.deadLetterTable && s.presentTriggers.length === 0;
  if (nothing) problems.push('capture objects are not installed: run `indexer install`');
  // What a missing trigger or queue did not capture meanwhile only a reconcile finds again.
  else if (missing.length > 0) problems.push(`${missing.join('; ')} — run \`indexer install\`, then \`indexer reconcile\` (changes made meanwhile were not queued)`);
  if (s.queue === 'legacy') problems.push('study_service is the legacy indexer queue: run `indexer install`');
  if (s.queue === 'outdated') problems.push('study_service lacks columns of this version: run `indexer install`');
  if (s.legacyQueueTable) problems.push('indexer_legacy_queue is left from an interrupted migration: run `indexer install` to finish it');
  if (s.legacyTrigger) problems.push(`legacy trigger ${LEGACY_TRIGGER} is still installed: run \`indexer install\``);
  if (s.schemaVersion !== null && s.schemaVersion > SCHEMA_VERSION) {
    problems.push(`capture objects are schema version ${s.schemaVersion}, newer than this agent (${SCHEMA_VERSION}): upgrade the agent`);
  } else if (s.installed && s.schemaVersion !== SCHEMA_VERSION) {
    problems.push(`capture objects are schema version ${s.schemaVersion ?? 'unknown'}, expected ${SCHEMA_VERSION}: run \`indexer install\``);
  }
  for (const t of s.conflicts) problems.push(`foreign trigger ${describeTrigger(t)} occupies a slot the indexer needs`);
  return problems;
}

function describeTrigger(t: TriggerInfo): string {
  return `${t.name} (${t.timing} ${t.event} on ${t.table})`;
}

export interface InstallResult {
  before: CaptureStatus;
  after: CaptureStatus;
  /** Studies carried over from the legacy queue as 'U' rows. */
  legacyRequeued: number;
}

/** Installs or upgrades the capture objects; idempotent. Refuses to touch a foreign trigger. */
export async function installCapture(conn: PacsConnection, dbName: string, log: Logger): Promise<InstallResult> {
  const before = await inspectCapture(conn, dbName);
  if (before.schemaVersion !== null && before.schemaVersion > SCHEMA_VERSION) {
    throw new DatabaseError('SCHEMA_TOO_NEW', `capture objects in ${dbName} are schema version ${before.schemaVersion}, newer than this agent (${SCHEMA_VERSION})`, {
      hint: 'upgrade the indexer agent; nothing was changed',
    });
  }
  if (before.conflicts.length > 0) {
    throw new DatabaseError('CAPTURE_CONFLICT', `foreign trigger ${before.conflicts.map(describeTrigger).join(', ')} in ${dbName} occupies a slot the indexer needs; nothing was changed`, {
      hint: 'MySQL 5.5/5.6 allow one trigger per table, timing and event: ask whoever owns that trigger; the indexer never drops it',
    });
  }
  const who = await currentUser(conn);
  await preflightCapture(conn, who, before, 'install');
  const legacyQueued = before.queue === 'legacy' ? await countRows(conn, dbName, 'study_service') : 0;
  await runCaptureScript(conn, dbName, installSql(), 'install', who, log);
  const after = await inspectCapture(conn, dbName);
  if (!after.current) {
    throw new DatabaseError('CAPTURE_MISSING', `install in ${dbName} finished but capture objects are incomplete: ${captureProblems(after).join('; ')}`);
  }
  log.info(
    { database: dbName, fromVersion: before.schemaVersion, toVersion: SCHEMA_VERSION, legacy: before.queue === 'legacy' || before.legacyTrigger, legacyRequeued: legacyQueued },
    before.installed ? 'capture objects upgraded' : 'capture objects installed',
  );
  return { before, after, legacyRequeued: legacyQueued };
}

/**
 * Removes the capture objects, triggers first. The legacy indexer's objects are left alone.
 * Changes still queued would go with the queue: refused (nothing changed) unless `force`.
 */
export async function uninstallCapture(conn: PacsConnection, dbName: string, log: Logger, opts: { force?: boolean } = {}): Promise<CaptureStatus> {
  const who = await currentUser(conn);
  const before = await inspectCapture(conn, dbName);
  await preflightCapture(conn, who, before, 'uninstall');
  const queued = before.queue === 'new' || before.queue === 'outdated' ? await countQueued(conn, dbName) : 0;
  if (queued > 0 && !opts.force) {
    throw new DatabaseError('QUEUE_NOT_EMPTY', `${queued} change${queued === 1 ? ' is' : 's are'} still queued in ${dbName}.study_service and would be lost; nothing was changed`, {
      hint: 'run `indexer sync` first (it delivers them), or `indexer uninstall --force` to discard them',
    });
  }
  await runCaptureScript(conn, dbName, uninstallSql(), 'uninstall', who, log);
  const after = await inspectCapture(conn, dbName);
  log.info({ database: dbName, keptLegacyQueue: after.queue === 'legacy', discarded: queued }, 'capture objects removed');
  return after;
}

async function countQueued(conn: PacsConnection, dbName: string): Promise<number> {
  interface CountRow extends mysql.RowDataPacket { n: number }
  const [[row]] = await conn.query<CountRow[]>(`SELECT COUNT(*) AS n FROM ${quoteIdent(dbName)}.study_service WHERE seq > 0`);
  return Number(row?.n ?? 0);
}

async function currentUser(conn: PacsConnection): Promise<string> {
  const [[who]] = await conn.query<UserRow[]>('SELECT CURRENT_USER() AS user');
  return who?.user ?? 'indexer@%';
}

async function countRows(conn: PacsConnection, dbName: string, table: string): Promise<number> {
  interface CountRow extends mysql.RowDataPacket { n: number }
  const [[row]] = await conn.query<CountRow[]>(`SELECT COUNT(*) AS n FROM ${quoteIdent(dbName)}.${quoteIdent(table)}`);
  return Number(row?.n ?? 0);
}

function quoteIdent(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

/** The package's sql/pacs folder, found from this module (src/ in tests, dist/src/ when installed). */
export function sqlDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'sql', 'pacs');
    if (existsSync(join(candidate, 'install.sql'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new DatabaseError('CAPTURE_MISSING', 'sql/pacs/install.sql is missing from the indexer package');
    dir = parent;
  }
}

/** The install script, as `indexer install --print` writes it for a DBA. */
export function installSql(): string {
  return readFileSync(join(sqlDir(), 'install.sql'), 'utf8');
}

export function uninstallSql(): string {
  return readFileSync(join(sqlDir(), 'uninstall.sql'), 'utf8');
}
