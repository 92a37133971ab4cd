import { exitCodeFor, IndexerError } from '../../../shared/errors.js';
import type { CommandContext } from '../../command-context.js';
import type { CheckLine } from '../source-plugin.js';
import { grantStatements, quoteAccount } from './capture-errors.js';
import { inspectCapture } from './capture-objects.js';
import { captureCheckLines } from './capture-verify.js';
import { queueBacklog } from './change-queue.js';
import { describeTarget, openPacsConnection, type PacsConnection } from './pacs-db.js';
import { currentAccount, probePrivileges } from './privilege-probe.js';
import { findQueueReset } from './queue-generation.js';
import { readState, STATE } from './state-store.js';

async function databaseChecks(ctx: CommandContext, conn: PacsConnection): Promise<CheckLine[]> {
  const db = ctx.config.database;
  const lines: CheckLine[] = [];
  const account = await currentAccount(conn);
  lines.push({ ok: true, text: `database ${describeTarget(db)} reachable (server ${account.version})` });
  const capture = await inspectCapture(conn, db.name);
  // Visibility of the triggers, their completeness, and whether their definer keeps what they need.
  lines.push(...(await captureCheckLines(conn, capture, account.user)));
  // Without the tables the remaining checks cannot run; the capture line says what to do.
  if (capture.queue !== 'new' || !capture.stateTable || !capture.deadLetterTable) return lines;
  const gaps = await probePrivileges(conn);
  lines.push(gaps.length === 0
    ? { ok: true, text: `privileges of ${account.user} for reading and acknowledging are sufficient` }
    : { ok: false, exit: 3, text: `${account.user} lacks ${gaps.map((g) => g.what).join('; ')}; a DBA can run:\n        ${grantStatements(quoteAccount(account.user), db.name, 'run').join('\n        ')}` });
  const backlog = await queueBacklog(conn);
  lines.push({ ok: true, text: `queue backlog: ${backlog} change${backlog === 1 ? '' : 's'} waiting` });
  const reset = await queueResetCheck(conn);
  if (reset) lines.push(reset);
  const done = (await readState(conn, STATE.initialDone)) === '1';
  lines.push(done ? { ok: true, text: 'initial load done' } : { ok: true, warn: true, text: 'initial load not done yet: run `indexer initial`' });
  return lines;
}

/**
 * A queue truncated (or dropped and recreated) by hand loses the changes it held. Found by the
 * queue's generation marker, never by clocks; reported until a repairing reconcile that began
 * after the reset adopts the queue's new generation (queue-generation.ts).
 */
async function queueResetCheck(conn: PacsConnection): Promise<CheckLine | null> {
  const reset = await findQueueReset(conn);
  if (!reset) return null;
  const how = reset.found === 'marker'
    ? 'its generation marker is gone'
    : `its counter is at ${reset.counter}, the agent had acknowledged up to ${reset.acked}`;
  return { ok: false, exit: 3, text: `change queue study_service was truncated or recreated (${how}): changes queued then are lost; run \`indexer reconcile\`` };
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
