import { grantStatements, quoteAccount } from './capture-errors.js';
import { inspectCapture } from './capture-objects.js';
import type { CaptureStatus } from './capture-status.js';
import { captureCheckLines, type CaptureCheckLine } from './capture-verify.js';
import type { PacsQueryable } from './pacs-db.js';
import { currentAccount, probePrivileges } from './privilege-probe.js';
import { findQueueReset } from './queue-generation.js';
import { readAllState, STATE } from './state-store.js';
import { lostChangesWhy, type CaptureFinding, type CaptureHealth } from '../source-health.js';
import { writeReconcileMark } from './reconcile-mark.js';

export type { CaptureFinding, CaptureHealth } from '../source-health.js';

export interface CaptureHealthReport {
  account: { user: string; version: string; database: string };
  capture: CaptureStatus;
  /** The lines `indexer check` prints for the capture: ok, notes and failures. */
  lines: CaptureCheckLine[];
}

/**
 * The capture's health, from statements that touch no row: the triggers are visible and all
 * there, their definer exists and holds what a trigger firing needs, the agent's own run-time
 * privileges, the queue's generation marker, the initial load. About fifteen short statements
 * (a few ms): cheap enough for every pass, `status` and `check` alike.
 */
export async function inspectCaptureHealth(db: PacsQueryable, dbName?: string): Promise<CaptureHealthReport> {
  const account = await currentAccount(db);
  const capture = await inspectCapture(db, dbName ?? account.database);
  // Without the tables the rest cannot run; the capture line says what to do. On a pool the
  // independent reads run side by side (a connection runs them one after the other).
  const tables = capture.queue === 'new' && capture.stateTable && capture.deadLetterTable;
  const [lines, rest] = await Promise.all([
    captureCheckLines(db, capture, account.user),
    tables ? Promise.all([ownPrivilegesLine(db, account.user, capture.database), queueResetLine(db), initialLine(db)]) : [],
  ]);
  for (const line of rest) if (line) lines.push(line);
  return { account, capture, lines };
}

export function healthOf(report: CaptureHealthReport): CaptureHealth {
  const finding = (l: CaptureCheckLine): CaptureFinding => ({ code: l.code ?? 'capture', message: l.text.replace(/\n\s+/g, ' '), ...(l.loses ? { loses: true } : {}) });
  const problems = report.lines.filter((l) => !l.ok).map(finding);
  return { ok: problems.length === 0, where: `PACS database ${report.capture.database}`, problems, notes: report.lines.filter((l) => l.ok && l.warn).map(finding) };
}

/** The capture's health; a problem that loses changes also marks "reconcile needed". */
export async function captureHealth(db: PacsQueryable): Promise<CaptureHealth> {
  const health = healthOf(await inspectCaptureHealth(db));
  await markLostChanges(db, health);
  return health;
}

/**
 * Renews the "reconcile needed" mark while a problem loses changes: what was lost meanwhile only
 * a reconcile that starts after it finds. Best effort: the problem itself is reported anyway.
 */
export async function markLostChanges(db: PacsQueryable, health: Pick<CaptureHealth, 'problems'>): Promise<void> {
  const why = lostChangesWhy(health);
  if (why) await writeReconcileMark(db, why).catch(() => undefined);
}

async function ownPrivilegesLine(db: PacsQueryable, user: string, dbName: string): Promise<CaptureCheckLine> {
  const gaps = await probePrivileges(db);
  if (gaps.length === 0) return { ok: true, text: `privileges of ${user} for reading and acknowledging are sufficient` };
  return {
    ok: false, exit: 3, code: 'agent_lacks_privilege',
    text: `${user} lacks ${gaps.map((g) => g.what).join('; ')}; a DBA can run:\n        ${grantStatements(quoteAccount(user), dbName, 'run').join('\n        ')}`,
  };
}

/**
 * A queue truncated (or dropped and recreated) by hand loses the changes it held. Found by the
 * queue's generation marker, never by clocks; reported until a repairing reconcile that began
 * after the reset adopts the queue's new generation (queue-generation.ts).
 */
async function queueResetLine(db: PacsQueryable): Promise<CaptureCheckLine | null> {
  const reset = await findQueueReset(db);
  if (!reset) return null;
  const how = reset.found === 'marker'
    ? 'its generation marker is gone'
    : `its counter is at ${reset.counter}, the agent had acknowledged up to ${reset.acked}`;
  return {
    ok: false, exit: 3, code: 'queue_reset',
    text: `change queue study_service was truncated or recreated (${how}): changes queued then are lost; run \`indexer reconcile\``, loses: true,
  };
}

/** Checkpoints start empty after a first install and after uninstall + install alike. */
async function initialLine(db: PacsQueryable): Promise<CaptureCheckLine> {
  const state = await readAllState(db);
  if (state.get(STATE.initialDone) === '1') return { ok: true, text: 'initial load done' };
  const started = state.get(STATE.initialLastPk) != null;
  return {
    ok: true, warn: true, code: 'initial_not_done',
    text: started
      ? 'initial load not finished: run `indexer initial` (it resumes where it stopped)'
      : 'initial load not done: changes made before `indexer install` were never queued; run `indexer initial` ' +
        '(after an uninstall + install too: it re-sends every study; then run `indexer reconcile`, which removes at the receiver the studies deleted meanwhile)',
  };
}
