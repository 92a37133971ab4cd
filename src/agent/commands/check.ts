import { exitCodeFor, IndexerError } from '../../shared/errors.js';
import { orthancClient } from '../agent-runtime.js';
import { orthancCheckLines } from '../orthanc/orthanc-check.js';
import type { Command, CommandContext } from '../command-context.js';
import { probeReceiver } from '../delivery/receiver-client.js';
import { grantStatements, quoteAccount } from '../pacs/capture-errors.js';
import { captureProblems, inspectCapture, type CaptureStatus } from '../pacs/capture-objects.js';
import { queueBacklog, queueCounter } from '../pacs/change-queue.js';
import { describeTarget, openPacsConnection, type PacsConnection } from '../pacs/pacs-db.js';
import { canSeeTriggers, currentAccount, probePrivileges } from '../pacs/privilege-probe.js';
import { readState, readStateWrittenAt, STATE } from '../pacs/state-store.js';

interface CheckLine {
  ok: boolean;
  /** Informational: reported, never a failure. */
  warn?: boolean;
  text: string;
  /** Exit code of this failure's family. */
  exit?: number;
}

async function captureCheck(conn: PacsConnection, capture: CaptureStatus): Promise<CheckLine> {
  const dbName = capture.database;
  const problems = captureProblems(capture);
  if (problems.length === 0) return { ok: true, text: `capture objects installed and current (schema version ${capture.schemaVersion})` };
  const onlyTriggersUnseen = capture.presentTriggers.length === 0 && problems.length === 1 && capture.missingTriggers.length > 0;
  if (onlyTriggersUnseen && !(await canSeeTriggers(conn, dbName))) {
    return { ok: true, warn: true, text: 'capture tables present; triggers not visible to this account (it lacks TRIGGER, which it does not need): run `indexer check` as the installing account to verify them' };
  }
  return { ok: false, exit: 3, text: `capture objects: ${problems.join('; ')}` };
}

async function databaseChecks(ctx: CommandContext, conn: PacsConnection): Promise<CheckLine[]> {
  const db = ctx.config.database;
  const lines: CheckLine[] = [];
  const account = await currentAccount(conn);
  lines.push({ ok: true, text: `database ${describeTarget(db)} reachable (server ${account.version})` });
  const capture = await inspectCapture(conn, db.name);
  lines.push(await captureCheck(conn, capture));
  // Without the tables the remaining checks cannot run; the capture line says what to do.
  if (capture.queue !== 'new' || !capture.stateTable || !capture.deadLetterTable) return lines;
  const gaps = await probePrivileges(conn);
  lines.push(gaps.length === 0
    ? { ok: true, text: `privileges of ${account.user} are sufficient` }
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
 * A queue truncated (or dropped and recreated) by hand restarts its counter below what the agent
 * acknowledged: the changes it held are gone. Reported until a reconcile ran after the last
 * acknowledgement above the counter (later acknowledgements, below it, do not move that time).
 */
async function queueResetCheck(conn: PacsConnection): Promise<CheckLine | null> {
  const acked = Number(await readState(conn, STATE.lastAckSeq)) || 0;
  const counter = await queueCounter(conn);
  if (counter === null || acked === 0 || counter > acked) return null;
  const ackedAt = await readStateWrittenAt(conn, STATE.lastAckSeq);
  let reconciled = false;
  try {
    const last = JSON.parse((await readState(conn, 'reconcile.last')) ?? 'null') as { ok?: boolean; dry_run?: boolean; finished_at?: string } | null;
    reconciled = Boolean(last?.ok && !last.dry_run && last.finished_at && ackedAt !== null && Date.parse(last.finished_at) / 1000 >= ackedAt);
  } catch {
    reconciled = false;
  }
  if (reconciled) return null;
  return { ok: false, exit: 3, text: `change queue study_service was truncated or recreated (its counter is at ${counter}, the agent had acknowledged up to ${acked}): changes queued then are lost; run \`indexer reconcile\`` };
}

async function receiverCheck(ctx: CommandContext): Promise<CheckLine> {
  const c = ctx.config;
  if (!c.center) return { ok: false, exit: 2, text: 'no centre code configured (server.json, INDEXER_CENTER)' };
  if (!c.key) return { ok: false, exit: 2, text: 'no centre key configured (key, INDEXER_KEY)' };
  if (c.protocol === 'legacy') return { ok: true, warn: true, text: `receiver not probed: the legacy protocol has no harmless request (${c.webservice_url})` };
  if (!c.url) return { ok: false, exit: 2, text: 'no receiver URL configured (url, INDEXER_URL)' };
  try {
    await probeReceiver(c, ctx.log.child({ component: 'check' }), ctx.signal);
    return { ok: true, text: `receiver ${c.url} accepts the key of centre ${c.center}` };
  } catch (err) {
    const hint = err instanceof IndexerError && err.hint ? ` (${err.hint})` : '';
    return { ok: false, exit: exitCodeFor(err), text: `receiver ${c.url}: ${(err as Error).message}${hint}` };
  }
}

async function dcm4cheeChecks(ctx: CommandContext): Promise<CheckLine[]> {
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

/** `indexer check`: a human-readable report; exit 0 only if all is well. */
export const run: Command = async (ctx) => {
  const lines = ctx.config.source === 'orthanc'
    ? await orthancCheckLines(orthancClient(ctx.config), ctx.config.orthanc.state_file)
    : await dcm4cheeChecks(ctx);
  lines.push(await receiverCheck(ctx));
  const failures = lines.filter((l) => !l.ok);
  const report = lines.map((l) => `  ${l.ok ? (l.warn ? 'note' : 'ok  ') : 'FAIL'}  ${l.text}`).join('\n');
  const verdict = failures.length === 0 ? 'all is well' : `${failures.length} problem${failures.length === 1 ? '' : 's'} found`;
  ctx.stdout(`indexer check (centre ${ctx.config.center || '?'})\n${report}\n${verdict}\n`);
  return failures[0]?.exit ?? (failures.length > 0 ? 1 : 0);
};
