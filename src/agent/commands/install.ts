import type { Command } from '../command-context.js';
import { installCapture, installSql } from '../pacs/capture-objects.js';
import { openPacsConnection } from '../pacs/pacs-db.js';

/** `indexer install [--print]`: installs or upgrades the capture objects; --print only writes the SQL. */
export const run: Command = async (ctx) => {
  if (ctx.config.source === 'orthanc') {
    ctx.stdout(`nothing to install for Orthanc: its own change feed is the source\n`);
    return 0;
  }
  if (ctx.flags.print === true) {
    ctx.stdout(installSql());
    return 0;
  }
  const conn = await openPacsConnection(ctx.config.database);
  try {
    await installCapture(conn, ctx.config.database.name, ctx.log);
  } finally {
    await conn.end().catch(() => undefined);
  }
  return 0;
};
