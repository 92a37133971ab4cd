import type { Command } from '../command-context.js';
import { uninstallCapture } from '../pacs/capture-objects.js';
import { openPacsConnection } from '../pacs/pacs-db.js';

/** `indexer uninstall`: removes the capture objects, triggers first. */
export const run: Command = async (ctx) => {
  if (ctx.config.source === 'orthanc') {
    ctx.stdout(`nothing to uninstall for Orthanc: its own change feed is the source\n`);
    return 0;
  }
  const conn = await openPacsConnection(ctx.config.database);
  try {
    await uninstallCapture(conn, ctx.config.database.name, ctx.log);
  } finally {
    await conn.end().catch(() => undefined);
  }
  return 0;
};
