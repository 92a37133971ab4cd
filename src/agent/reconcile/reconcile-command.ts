import { IndexerError } from '../../shared/errors.js';
import type { CommandContext } from '../command-context.js';
import { adoptQueueGeneration, findQueueReset } from '../pacs/queue-generation.js';
import { RECONCILE_STATE } from '../pacs/reconcile-reader.js';
import { writeState } from '../pacs/state-store.js';
import { finishReport, renderReport, startReport, type ReconcileReport } from './reconcile-report.js';
import { reconcile } from './reconcile-run.js';
import type { ReconcileSession } from './reconcile-session.js';

/**
 * Runs one reconcile with its report: logged as one summary line and stored as reconcile.last
 * (a failure also as last_error). The error is rethrown for the exit code.
 */
export async function runReconcile(ctx: CommandContext, session: ReconcileSession, dryRun: boolean): Promise<ReconcileReport> {
  const startedMs = performance.now();
  const report = startReport(dryRun);
  const log = ctx.log.child({ component: 'reconcile' });
  const save = () => writeState(session.pool, RECONCILE_STATE, JSON.stringify(report));
  // Read before anything is compared: only a reset that happened before this start is repaired.
  const reset = dryRun ? null : await findQueueReset(session.pool);
  try {
    await reconcile({
      pool: session.pool, client: session.client, delivery: session.delivery, log, signal: ctx.signal,
      center: ctx.config.center, readChunk: ctx.config.read_chunk,
      writeDeadLetters: (rejected) => session.source.writeDeadLetters(rejected),
    }, report);
  } catch (err) {
    finishReport(report, startedMs, err);
    await save().catch(() => undefined);
    ctx.stdout(renderReport(report, ctx.stdoutInteractive === true));
    if (err instanceof IndexerError && err.code === 'INTERRUPTED') {
      log.warn({ ...report }, 'reconcile interrupted');
      throw err;
    }
    log.error({ ...report }, 'reconcile failed');
    await session.source.recordError({ at: report.finished_at, command: 'reconcile', ...report.error }).catch(() => undefined);
    throw err;
  }
  finishReport(report, startedMs);
  if (reset) {
    await adoptQueueGeneration(session.pool, reset);
    log.info({ counter: reset.counter, acked: reset.acked }, 'reconcile repaired a reset change queue');
  }
  log.info({ ...report }, dryRun ? 'reconcile dry run finished' : 'reconcile finished');
  await save();
  ctx.stdout(renderReport(report, ctx.stdoutInteractive === true));
  return report;
}
