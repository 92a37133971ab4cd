import { exitCodeFor, IndexerError } from '../../shared/errors.js';
import type { Command, CommandContext } from '../command-context.js';
import { probeReceiver } from '../delivery/receiver-client.js';
import { isPlainHttpToRemote, maskUrlCredentials, redactUrl } from '../delivery/receiver-url.js';
import { sourcePlugin } from '../sources/registry.js';
import type { CheckLine } from '../sources/source-plugin.js';

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

/** `indexer check`: a human-readable report; exit 0 only if all is well. */
export const run: Command = async (ctx) => {
  const lines = await sourcePlugin(ctx.config).checkLines(ctx);
  lines.push(...(await receiverCheck(ctx)));
  const failures = lines.filter((l) => !l.ok);
  const report = lines.map((l) => `  ${l.ok ? (l.warn ? 'note' : 'ok  ') : 'FAIL'}  ${l.text}`).join('\n');
  const verdict = failures.length === 0 ? 'all is well' : `${failures.length} problem${failures.length === 1 ? '' : 's'} found`;
  ctx.stdout(`indexer check (centre ${ctx.config.center || '?'})\n${report}\n${verdict}\n`);
  return failures[0]?.exit ?? (failures.length > 0 ? 1 : 0);
};
