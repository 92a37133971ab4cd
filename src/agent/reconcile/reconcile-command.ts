import type { CommandContext } from '../command-context.js';
import { runReported } from '../pipeline/run-pass.js';
import { finishReport, renderReport, startReport, type ReconcileReport } from './reconcile-report.js';
import { reconcile } from './reconcile-run.js';
import type { ReconcileSession } from './reconcile-session.js';

/**
 * Runs one reconcile with its report, as the pipeline runs a pass: logged as one summary line,
 * stored by the source as its last reconcile (a failure also as last_error), printed on stdout.
 * The error is rethrown for the exit code.
 */
export async function runReconcile(ctx: CommandContext, session: ReconcileSession, dryRun: boolean): Promise<ReconcileReport> {
  const report = startReport(dryRun);
  const log = ctx.log.child({ component: 'reconcile' });
  const { reader, source } = session;
  return runReported(source, log, {
    command: 'reconcile',
    report,
    finish: (startedMs, error) => finishReport(report, startedMs, error),
    save: () => reader.recordReconcile(report).finally(() => ctx.stdout(renderReport(report, ctx.stdoutInteractive === true))),
    messages: { finished: dryRun ? 'reconcile dry run finished' : 'reconcile finished', failed: 'reconcile failed', interrupted: 'reconcile interrupted' },
  }, async () => {
    // Before anything is compared: only a reset of the source's change log, or a "reconcile needed"
    // mark, from before this start is repaired (cleared).
    const adopt = dryRun || !reader.beginRepair ? null : await reader.beginRepair();
    await reconcile({
      reader, source, client: session.client, delivery: session.delivery, log, signal: ctx.signal,
      center: ctx.config.center, readChunk: ctx.config.read_chunk,
    }, report);
    const adopted = adopt ? await adopt() : null;
    if (adopted) log.info(adopted, 'reconcile repaired what was marked before it started');
  });
}
