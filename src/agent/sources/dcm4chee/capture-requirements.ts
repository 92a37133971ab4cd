import { DatabaseError } from '../../../shared/errors.js';
import { readGrants, type AccountGrants } from './account-grants.js';
import { quoteAccount } from './capture-errors.js';
import type { CaptureStatus } from './capture-status.js';
import type { PacsConnection } from './pacs-db.js';

/** One privilege one statement needs: what a preflight names when it is missing. */
export interface Requirement {
  privilege: string;
  table: string;
  /** Needed by the triggers at fire time: must be granted to the account itself, not a role. */
  definer?: boolean;
  /** The statement (or the firing trigger) that needs it, as the operator would recognise it. */
  statement: string;
}

/** What goes wrong at fire time when the triggers' definer lacks a privilege. */
export interface DefinerNeed {
  privilege: string;
  table: string;
  /** 'breaks': the PACS's own statement fails; 'loses': the change is silently not queued. */
  effect: 'breaks' | 'loses';
  consequence: string;
}

/**
 * MySQL and MariaDB check the DEFINER's privileges every time a trigger fires: TRIGGER on the
 * subject table (else the PACS's statement fails, error 1142), SELECT on it for OLD/NEW and the
 * patient trigger's cursor, INSERT on the queue. The body's denials are swallowed by its CONTINUE
 * HANDLER, so those lose changes without a word.
 */
export const DEFINER_NEEDS: readonly DefinerNeed[] = [
  { privilege: 'TRIGGER', table: 'study', effect: 'breaks', consequence: 'every PACS INSERT, UPDATE and DELETE on study fails (MySQL error 1142)' },
  { privilege: 'TRIGGER', table: 'patient', effect: 'breaks', consequence: 'every PACS UPDATE on patient fails (MySQL error 1142)' },
  { privilege: 'SELECT', table: 'study', effect: 'loses', consequence: 'the study triggers cannot read their row: every study change is silently lost' },
  { privilege: 'SELECT', table: 'patient', effect: 'loses', consequence: 'the patient trigger cannot read: patient changes are silently lost' },
  { privilege: 'INSERT', table: 'study_service', effect: 'loses', consequence: 'the triggers cannot queue: every change is silently lost' },
];

const req = (privilege: string, table: string, statement: string): Requirement => ({ privilege, table, statement });

/** Every privilege `install` will use on this database in its present state (sql/pacs/install.sql). */
export function installRequirements(s: CaptureStatus): Requirement[] {
  const out: Requirement[] = [
    req('CREATE', 'indexer_state', 'CREATE TABLE IF NOT EXISTS indexer_state'),
    req('SELECT', 'indexer_state', 'the schema-version check (SELECT … FROM indexer_state)'),
    req('TRIGGER', 'study', 'DROP TRIGGER / CREATE TRIGGER indexer_study_ai, _au, _ad'),
    req('TRIGGER', 'patient', 'DROP TRIGGER / CREATE TRIGGER indexer_patient_au'),
    req('CREATE', 'study_service', 'CREATE TABLE IF NOT EXISTS study_service'),
    req('CREATE', 'indexer_dead_letter', 'CREATE TABLE IF NOT EXISTS indexer_dead_letter'),
    req('INSERT', 'indexer_state', "INSERT INTO indexer_state … 'schema_version' … ON DUPLICATE KEY UPDATE"),
    req('UPDATE', 'indexer_state', "INSERT INTO indexer_state … 'schema_version' … ON DUPLICATE KEY UPDATE"),
  ];
  if (s.queue === 'outdated') out.push(req('ALTER', 'study_service', 'ALTER TABLE study_service ADD COLUMN …'));
  if (s.queue === 'legacy') {
    out.push(
      req('SELECT', 'study_service', 'SELECT COUNT(*) FROM study_service (the legacy queue)'),
      req('ALTER', 'study_service', 'RENAME TABLE study_service TO indexer_legacy_queue'),
      req('DROP', 'study_service', 'RENAME TABLE study_service TO indexer_legacy_queue'),
      req('CREATE', 'indexer_legacy_queue', 'RENAME TABLE study_service TO indexer_legacy_queue'),
      req('INSERT', 'indexer_legacy_queue', 'RENAME TABLE study_service TO indexer_legacy_queue'),
    );
  }
  if (s.queue === 'legacy' || s.legacyQueueTable) {
    out.push(
      req('SELECT', 'indexer_legacy_queue', 'INSERT INTO study_service … SELECT … FROM indexer_legacy_queue'),
      req('DROP', 'indexer_legacy_queue', 'DROP TABLE indexer_legacy_queue'),
    );
  }
  // Install makes this account the triggers' definer: without these the triggers it creates would
  // break the PACS or lose every change.
  for (const n of DEFINER_NEEDS) {
    out.push({ ...req(n.privilege, n.table, 'the capture triggers when they fire (they run as this account, their DEFINER)'), definer: true });
  }
  return dedupe(out);
}

/** Every privilege `uninstall` will use (sql/pacs/uninstall.sql). */
export function uninstallRequirements(s: CaptureStatus): Requirement[] {
  // Triggers this account cannot see may still be there: it needs TRIGGER to drop them either way.
  const out: Requirement[] = [
    req('TRIGGER', 'study', 'DROP TRIGGER indexer_study_ai, _au, _ad'),
    req('TRIGGER', 'patient', 'DROP TRIGGER indexer_patient_au'),
  ];
  if (s.queue === 'new' || s.queue === 'outdated') out.push(req('DROP', 'study_service', 'DROP TABLE study_service'));
  if (s.legacyQueueTable) out.push(req('DROP', 'indexer_legacy_queue', 'DROP TABLE indexer_legacy_queue'));
  if (s.deadLetterTable) out.push(req('DROP', 'indexer_dead_letter', 'DROP TABLE indexer_dead_letter'));
  if (s.stateTable) out.push(req('DROP', 'indexer_state', 'DROP TABLE indexer_state'));
  return out;
}

/** One entry per privilege and table, naming every statement that needs it; definer if any is. */
function dedupe(reqs: Requirement[]): Requirement[] {
  const byKey = new Map<string, Requirement>();
  for (const r of reqs) {
    const k = `${r.privilege} ${r.table}`;
    const prev = byKey.get(k);
    if (!prev) byKey.set(k, { ...r });
    else {
      if (!prev.statement.includes(r.statement)) prev.statement += ` and ${r.statement}`;
      prev.definer = Boolean(prev.definer || r.definer);
    }
  }
  return [...byKey.values()];
}

export function unmetRequirements(grants: AccountGrants, db: string, reqs: readonly Requirement[]): Requirement[] {
  return reqs.filter((r) => (r.definer ? !grants.has(r.privilege, db, r.table) : !grants.hasInSession(r.privilege, db, r.table)));
}

/** The GRANT statements that add exactly these privileges, one per table. */
export function grantsFor(account: string, db: string, missing: readonly { privilege: string; table: string }[]): string[] {
  const byTable = new Map<string, string[]>();
  for (const m of missing) {
    const list = byTable.get(m.table) ?? [];
    if (!list.includes(m.privilege)) list.push(m.privilege);
    byTable.set(m.table, list);
  }
  const qdb = `\`${db.replace(/`/g, '``')}\``;
  return [...byTable].map(([table, privs]) => `GRANT ${privs.join(', ')} ON ${qdb}.\`${table}\` TO ${account};`);
}

/**
 * Refuses, before anything is changed, when the current account lacks a privilege the action
 * will use: install/uninstall are then all or nothing in effect. Privileges that may come from a
 * role cannot be read reliably from SHOW GRANTS: then the script runs and a denial names its
 * statement (it resumes on the next run).
 */
export async function preflightCapture(conn: PacsConnection, who: string, s: CaptureStatus, action: 'install' | 'uninstall'): Promise<void> {
  const grants = await readGrants(conn, who, true);
  const reqs = action === 'install' ? installRequirements(s) : uninstallRequirements(s);
  const unmet = unmetRequirements(grants, s.database, reqs);
  // A role not listed by SHOW GRANTS (not the default one) may still hold a statement's privilege.
  const missing = grants.roles.length > 0 ? unmet.filter((r) => r.definer) : unmet;
  if (missing.length === 0) return;
  const account = quoteAccount(who);
  const lines = missing.map((m) => `${m.privilege} on \`${s.database}\`.\`${m.table}\` (needed by ${m.statement})`);
  throw new DatabaseError('DB_PRIVILEGES', `${account} lacks ${lines.join('; ')}; nothing was changed`, {
    hint: `a DBA must run:\n    ${grantsFor(account, s.database, missing).join('\n    ')}\n  then run \`indexer ${action}\` again` +
      (action === 'install' ? ' (or apply `indexer install --print` as an account that has them: it becomes the triggers\' definer and must keep them)' : ''),
  });
}
