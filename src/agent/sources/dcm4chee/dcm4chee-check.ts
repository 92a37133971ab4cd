import { exitCodeFor, IndexerError } from '../../../shared/errors.js';
import type { CommandContext } from '../../command-context.js';
import type { CheckLine } from '../source-plugin.js';
import { healthOf, inspectCaptureHealth, markLostChanges } from './capture-health.js';
import { parseReconcileMark, readReconcileMarkText } from './reconcile-mark.js';
import { reconcileNeededLine } from '../source-health.js';
import { queueBacklog } from './change-queue.js';
import { describeTarget, openPacsConnection, type PacsConnection } from './pacs-db.js';

async function databaseChecks(ctx: CommandContext, conn: PacsConnection): Promise<CheckLine[]> {
  const db = ctx.config.database;
  const report = await inspectCaptureHealth(conn, db.name);
  const { account, capture, lines: captureLines } = report;
  const lines: CheckLine[] = [{ ok: true, text: `database ${describeTarget(db)} reachable (server ${account.version})` }, ...captureLines];
  // The same verification runs after every pass (exit 3 there too); the backlog is check's own.
  if (capture.queue === 'new' && capture.stateTable && capture.deadLetterTable) {
    await markLostChanges(conn, healthOf(report));
    const needed = reconcileNeededLine(parseReconcileMark(await readReconcileMarkText(conn)));
    if (needed) lines.push(needed);
    const backlog = await queueBacklog(conn);
    lines.push({ ok: true, text: `queue backlog: ${backlog} change${backlog === 1 ? '' : 's'} waiting` });
  }
  return lines;
}

/** The database lines of `indexer check`: reachability, capture objects, privileges, queue, initial load. */
export async function dcm4cheeCheckLines(ctx: CommandContext): Promise<CheckLine[]> {
  let conn: PacsConnection | undefined;
  try {
    conn = await openPacsConnection(ctx.config.database);
    return await databaseChecks(ctx, conn);
  } catch (err) {
    const hint = err instanceof IndexerError && err.hint ? ` (${err.hint})` : '';
    return [{ ok: false, exit: exitCodeFor(err) === 1 ? 3 : exitCodeFor(err), text: `database: ${(err as Error).message}${hint}` }];
  } finally {
    await conn?.end().catch(() => undefined);
  }
}
