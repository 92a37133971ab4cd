import { IndexerError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { Delivery } from '../delivery/delivery.js';
import { captureUnhealthyError, RECONCILE_NEEDED_MESSAGE } from '../sources/source-health.js';
import type { StudySource, VersionFloor } from '../sources/study-source.js';
import { finishSummary, startSummary, type RunSummary } from './run-summary.js';

export interface PassDeps {
  source: StudySource;
  delivery: Delivery;
  log: Logger;
  signal: AbortSignal;
  /** Rows per read (read_chunk). */
  readChunk: number;
  /** Posted after the pass, succeeded or failed (delivery/heartbeat.ts); never throws, never fails the pass. */
  heartbeat?: (summary: RunSummary) => Promise<void>;
}

export function throwIfStopped(signal: AbortSignal): void {
  if (!signal.aborted) return;
  throw signal.reason instanceof IndexerError ? signal.reason : new IndexerError('INTERRUPTED', 'stopped');
}

/**
 * The pass's version floor: the receiver is asked once, when the source allocates its first
 * version (an idle pass never asks); undefined when the protocol cannot ask (legacy).
 */
export function passVersionFloor(deps: PassDeps): VersionFloor | undefined {
  const { delivery, signal } = deps;
  if (!delivery.versionFloor) return undefined;
  let asked: Promise<number | null> | undefined;
  return () => (asked ??= delivery.versionFloor!(signal));
}

/** A run's report as it is logged and stored: the error of a failed one is recorded as last_error. */
export interface RunReport {
  finished_at: string | null;
  error?: { code: string; message: string };
}

/** How one kind of run (a pass, a reconcile) reports itself. */
export interface ReportedRun<R extends RunReport> {
  /** The `command` recorded with last_error. */
  command: string;
  report: R;
  finish(startedMs: number, error?: unknown): void;
  /** Stores the report (last_run, the last reconcile); when the run failed, its own failure is ignored. */
  save(): Promise<void>;
  messages: { finished: string; failed: string; interrupted: string };
}

/**
 * Runs `body` with its report: logged as one line, stored by `save` (and as last_error when it
 * fails, unless it was a requested stop). The error is rethrown for the command's exit code.
 */
export async function runReported<R extends RunReport>(
  source: Pick<StudySource, 'recordError'>, log: Logger, run: ReportedRun<R>, body: () => Promise<void>,
): Promise<R> {
  const startedMs = performance.now();
  const fields = (): Record<string, unknown> => ({ ...(run.report as object) });
  try {
    await body();
  } catch (err) {
    run.finish(startedMs, err);
    await run.save().catch(() => undefined);
    if (err instanceof IndexerError && err.code === 'INTERRUPTED') {
      // A requested stop, not a fault: the place is kept, nothing to report as an error.
      log.warn(fields(), run.messages.interrupted);
      throw err;
    }
    log.error({ ...fields(), err }, run.messages.failed);
    await source.recordError({ at: run.report.finished_at, command: run.command, ...run.report.error }).catch(() => undefined);
    throw err;
  }
  run.finish(startedMs);
  log.info(fields(), run.messages.finished);
  await run.save();
  return run.report;
}

/** One pass (initial, sync) with its summary, stored as last_run. */
export async function runPass(
  command: RunSummary['command'], deps: PassDeps, body: (summary: RunSummary) => Promise<void>,
): Promise<RunSummary> {
  const summary = startSummary(command);
  try {
    return await reportedPass(command, summary, deps, body);
  } finally {
    await deps.heartbeat?.(summary);
  }
}

function reportedPass(
  command: RunSummary['command'], summary: RunSummary, deps: PassDeps, body: (summary: RunSummary) => Promise<void>,
): Promise<RunSummary> {
  return runReported(deps.source, deps.log, {
    command,
    report: summary,
    finish: (startedMs, error) => finishSummary(summary, startedMs, error),
    save: () => deps.source.recordRun(summary),
    messages: { finished: `${command} pass finished`, failed: `${command} pass failed`, interrupted: `${command} pass interrupted` },
  }, async () => {
    await body(summary);
    warnUnidentified(deps, summary);
    await warnReconcileNeeded(deps);
    // What was queued is delivered (nothing lost by waiting); now a broken capture fails the command.
    await requireHealthyCapture(deps);
  });
}

/**
 * Studies without a study_iuid cannot be identified at the receiver: never sent, never dead
 * letters. Named by primary key (no patient data) so the PACS side can fix them.
 */
function warnUnidentified(deps: PassDeps, summary: RunSummary): void {
  const count = summary.invalid.missing_iuid;
  if (count === 0) return;
  deps.log.warn({ count, study_pks: summary.unidentified_study_pks ?? [] }, 'studies without a study_iuid were not sent: give them their Study Instance UID in the PACS');
}

/** While the source's "reconcile needed" mark is set, every pass says so (it still succeeds). */
async function warnReconcileNeeded(deps: PassDeps): Promise<void> {
  const mark = deps.source.reconcileNeeded ? await deps.source.reconcileNeeded() : null;
  if (mark) deps.log.warn({ code: 'reconcile_needed', why: mark.why, since: mark.at }, RECONCILE_NEEDED_MESSAGE);
}

/**
 * The cheap part of `indexer check`, after every pass: triggers present, their definer able to
 * fire them, the agent's own privileges, the queue's generation. Notes are logged; a problem
 * fails the pass (exit 3) naming its repair, so a cron-only site learns of it.
 */
async function requireHealthyCapture(deps: PassDeps): Promise<void> {
  if (!deps.source.captureHealth) return;
  const health = await deps.source.captureHealth();
  for (const note of health.notes) deps.log.warn({ code: note.code, detail: note.message }, 'capture note');
  if (!health.ok) throw captureUnhealthyError(health);
}
