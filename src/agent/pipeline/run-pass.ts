import { IndexerError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { Delivery } from '../delivery/delivery.js';
import { captureUnhealthyError } from '../pacs/capture-health.js';
import type { StudySource, VersionFloor } from '../source/study-source.js';
import { finishSummary, startSummary, type RunSummary } from './run-summary.js';

export interface PassDeps {
  source: StudySource;
  delivery: Delivery;
  log: Logger;
  signal: AbortSignal;
  /** Rows per read (read_chunk). */
  readChunk: number;
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

/**
 * Runs one pass with its summary: logged as one line, stored as last_run (and last_error when it
 * fails). The error is rethrown for the command's exit code.
 */
export async function runPass(
  command: RunSummary['command'], deps: PassDeps, body: (summary: RunSummary) => Promise<void>,
): Promise<RunSummary> {
  const startedMs = performance.now();
  const summary = startSummary(command);
  try {
    await body(summary);
    warnUnidentified(deps, summary);
    // What was queued is delivered (nothing lost by waiting); now a broken capture fails the command.
    await requireHealthyCapture(deps);
  } catch (err) {
    finishSummary(summary, startedMs, err);
    await deps.source.recordRun(summary).catch(() => undefined);
    if (err instanceof IndexerError && err.code === 'INTERRUPTED') {
      // A requested stop, not a fault: the place is kept, nothing to report as an error.
      deps.log.warn({ ...summary }, `${command} pass interrupted`);
      throw err;
    }
    deps.log.error({ ...summary, err }, `${command} pass failed`);
    await deps.source.recordError({ at: summary.finished_at, command, ...summary.error }).catch(() => undefined);
    throw err;
  }
  finishSummary(summary, startedMs);
  deps.log.info({ ...summary }, `${command} pass finished`);
  await deps.source.recordRun(summary);
  return summary;
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
