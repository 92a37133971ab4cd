import { exitCodeFor, IndexerError } from '../../shared/errors.js';
import { orthancClient } from '../agent-runtime.js';
import { orthancCheckLines } from '../orthanc/orthanc-check.js';
import type { Command, CommandContext } from '../command-context.js';
import { probeReceiver } from '../delivery/receiver-client.js';
import { isPlainHttpToRemote, maskUrlCredentials, redactUrl } from '../delivery/receiver-url.js';
import { inspectCaptureHealth } from '../pacs/capture-health.js';
import { queueBacklog } from '../pacs/change-queue.js';
import { describeTarget, openPacsConnection, type PacsConnection } from '../pacs/pacs-db.js';

interface CheckLine {
  ok: boolean;
  /** Informational: reported, never a failure. */
  warn?: boolean;
  text: string;
  /** Exit code of this failure's family. */
  exit?: number;
}

async function databaseChecks(ctx: CommandContext, conn: PacsConnection): Promise<CheckLine[]> {
  const db = ctx.config.database;
  const { account, capture, lines: captureLines } = await inspectCaptureHealth(conn, db.name);
  const lines: CheckLine[] = [{ ok: true, text: `database ${describeTarget(db)} reachable (server ${account.version})` }, ...captureLines];
  // The same verification runs after every pass (exit 3 there too); the backlog is check's own.
  if (capture.queue === 'new' && capture.stateTable && capture.deadLetterTable) {
    const backlog = await queueBacklog(conn);
    lines.push({ ok: true, text: `queue backlog: ${backlog} change${backlog === 1 ? '' : 's'} waiting` });
  }
  return lines;
}

/** The receiver line, after a note when the URL sends the key and records unencrypted. URLs are printed without credentials. */
async function receiverCheck(ctx: CommandContext): Promise<CheckLine[]> {
  const c = ctx.config;
  const target = c.protocol === 'legacy' ? { key: 'webservice_url', url: c.webservice_url } : { key: 'url', url: c.url };
  const notes: CheckLine[] = isPlainHttpToRemote(target.url)
    ? [{ ok: true, warn: true, text: `${target.key} ${redactUrl(target.url)} is plain http to another host: the centre key and the records travel unencrypted; use https` }]
    : [];
  if (!c.center) return [...notes, { ok: false, exit: 2, text: 'no centre code configured (server.json, INDEXER_CENTER)' }];
  if (!c.key) return [...notes, { ok: false, exit: 2, text: 'no centre key configured (key, INDEXER_KEY)' }];
  if (c.protocol === 'legacy') return [...notes, { ok: true, warn: true, text: `receiver not probed: the legacy protocol has no harmless request (${redactUrl(c.webservice_url)})` }];
  if (!c.url) return [...notes, { ok: false, exit: 2, text: 'no receiver URL configured (url, INDEXER_URL)' }];
  try {
    await probeReceiver(c, ctx.log.child({ component: 'check' }), ctx.signal);
    return [...notes, { ok: true, text: `receiver ${redactUrl(c.url)} accepts the key of centre ${c.center}` }];
  } catch (err) {
    const hint = err instanceof IndexerError && err.hint ? ` (${err.hint})` : '';
    return [...notes, { ok: false, exit: exitCodeFor(err), text: maskUrlCredentials(`receiver ${redactUrl(c.url)}: ${(err as Error).message}${hint}`) }];
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
  lines.push(...(await receiverCheck(ctx)));
  const failures = lines.filter((l) => !l.ok);
  const report = lines.map((l) => `  ${l.ok ? (l.warn ? 'note' : 'ok  ') : 'FAIL'}  ${l.text}`).join('\n');
  const verdict = failures.length === 0 ? 'all is well' : `${failures.length} problem${failures.length === 1 ? '' : 's'} found`;
  ctx.stdout(`indexer check (centre ${ctx.config.center || '?'})\n${report}\n${verdict}\n`);
  return failures[0]?.exit ?? (failures.length > 0 ? 1 : 0);
};
