import { readGrants, sameAccount, type AccountGrants } from './account-grants.js';
import { quoteAccount } from './capture-errors.js';
import { captureProblems, type CaptureStatus } from './capture-objects.js';
import { DEFINER_NEEDS, grantsFor, type DefinerNeed } from './capture-requirements.js';
import type { PacsQueryable } from './pacs-db.js';
import type { CheckLine } from '../source-plugin.js';

/** One line of `indexer check` with the stable name of its problem (status JSON, logs). */
export interface CaptureCheckLine extends CheckLine {
  /** Stable name of the problem (status JSON, logs): what went wrong, not the details. */
  code?: string;
  /** The problem loses changes (a reconcile is needed once it is repaired). */
  loses?: boolean;
}

const TRIGGER_TABLE: Record<string, string> = {
  indexer_study_ai: 'study',
  indexer_study_au: 'study',
  indexer_study_ad: 'study',
  indexer_patient_au: 'patient',
};

const fail = (code: string, text: string): CaptureCheckLine => ({ ok: false, exit: 3, code, text });

/**
 * The capture objects and whether a PACS write would fail or lose its change: the triggers must
 * be visible (information_schema.TRIGGERS lists a table's triggers only to accounts with TRIGGER
 * on it), complete, and run as a definer that exists and keeps what they need.
 */
export async function captureCheckLines(conn: PacsQueryable, capture: CaptureStatus, currentUser: string): Promise<CaptureCheckLine[]> {
  const own = await readGrants(conn, currentUser, true);
  const db = capture.database;
  const account = quoteAccount(currentUser);
  const unseen = ['study', 'patient'].filter((t) => !own.hasInSession('TRIGGER', db, t));
  const lines: CaptureCheckLine[] = [];
  // Not seeing the triggers is a failure of its own, even when a definer line below names the
  // same missing TRIGGER: this account cannot tell whether they are there at all.
  if (unseen.length > 0) {
    lines.push(fail('triggers_not_visible',
      `cannot see the capture triggers on ${unseen.join(' and ')}: ${account} lacks TRIGGER there, which it needs to verify them ` +
      `(and, if it installed them, as their definer: every PACS write on those tables then fails, MySQL error 1142); ` +
      `a DBA must run: ${grantsFor(account, db, unseen.map((table) => ({ privilege: 'TRIGGER', table }))).join(' ')}`,
    ));
  }
  const visible = { ...capture, missingTriggers: capture.missingTriggers.filter((t) => !unseen.includes(TRIGGER_TABLE[t]!)) };
  const problems = captureProblems(visible);
  const losing = visible.missingTriggers.length > 0 || capture.queue === 'missing';
  if (problems.length > 0) lines.push({ ...fail('capture_objects', `capture objects: ${problems.join('; ')}`), ...(losing ? { loses: true } : {}) });
  else if (unseen.length === 0) lines.push({ ok: true, text: `capture objects installed and current (schema version ${capture.schemaVersion})` });
  for (const definer of capture.definers) lines.push(await definerLine(conn, db, definer, currentUser, own));
  return lines;
}

async function definerLine(conn: PacsQueryable, db: string, definer: string, currentUser: string, own: AccountGrants): Promise<CaptureCheckLine> {
  const self = sameAccount(definer, currentUser);
  const who = `the capture triggers' definer ${quoteAccount(definer)}${self ? ' (this account)' : ''}`;
  let grants = own;
  if (!self) {
    try {
      grants = await readGrants(conn, definer, false);
    } catch (err) {
      return unreadableDefiner(err, db, definer, currentUser);
    }
  }
  const gaps = DEFINER_NEEDS.filter((n) => !grants.has(n.privilege, db, n.table));
  if (gaps.length === 0) return { ok: true, text: `${who} keeps TRIGGER and SELECT on study and patient and INSERT on study_service` };
  const roleOnly = gaps.some((n) => grants.hasInSession(n.privilege, db, n.table));
  const ordered = [...gaps.filter((n) => n.effect === 'breaks'), ...gaps.filter((n) => n.effect === 'loses')];
  const loses = gaps.some((n) => n.effect === 'loses');
  return {
    ...fail('definer_lacks_privilege',
      `${who} lacks ${ordered.map(describeGap).join('; ')}` +
      `${roleOnly ? ' (held through a role, which a trigger\'s definer does not use)' : ''}; ` +
      `a DBA must run: ${grantsFor(quoteAccount(definer), db, ordered).join(' ')}` +
      // The changes lost meanwhile were never queued: only a reconcile finds them.
      `${loses ? ' then `indexer reconcile`' : ''}`,
    ),
    ...(loses ? { loses: true } : {}),
  };
}

function describeGap(n: DefinerNeed): string {
  return `${n.privilege} on ${n.table}: ${n.consequence}`;
}

function unreadableDefiner(err: unknown, db: string, definer: string, currentUser: string): CheckLine {
  const errno = (err as { errno?: number }).errno;
  const q = quoteAccount(definer);
  if (errno === 1141) {
    return fail('definer_missing',
      `the capture triggers' definer ${q} does not exist: every PACS INSERT, UPDATE and DELETE on study and UPDATE on patient fails ` +
      `(MySQL error 1449); run \`indexer install\` now (it recreates the triggers as ${quoteAccount(currentUser)})`,
    );
  }
  const needs = grantsFor(q, db, DEFINER_NEEDS).join(' ');
  return {
    ok: true,
    warn: true,
    text: `cannot verify the capture triggers' definer ${q} (this account may not read other accounts' grants): ` +
      `a DBA runs SHOW GRANTS FOR ${q}; and checks it holds, granted directly: ${needs} ` +
      `— or run \`indexer install\` as this account to make it the definer`,
  };
}
