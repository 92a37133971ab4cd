import type { Command } from '../command-context.js';
import { uninstallCapture } from '../pacs/capture-objects.js';
import { openPacsConnection } from '../pacs/pacs-db.js';

/**
 * `indexer uninstall [--force]`: removes the capture objects, triggers first; refuses while
 * changes are queued unless --force. The checkpoints go with indexer_state.
 */
export const run: Command = async (ctx) => {
  if (ctx.config.source === 'orthanc') {
    ctx.stdout(`nothing to uninstall for Orthanc: its own change feed is the source\n`);
    return 0;
  }
  const conn = await openPacsConnection(ctx.config.database);
  try {
    await uninstallCapture(conn, ctx.config.database.name, ctx.log, { force: ctx.flags.force === true });
  } finally {
    await conn.end().catch(() => undefined);
  }
  ctx.stdout('capture objects removed, with the checkpoints: after a later `indexer install`, run `indexer initial` '
    + '(it re-sends every study; the receiver keeps one record per study) or `indexer reconcile`\n');
  return 0;
};
