import type { Command } from '../command-context.js';
import { sourcePlugin } from '../sources/registry.js';

/** `indexer install [--print]`: installs or upgrades the source's capture objects; --print only writes the SQL. */
export const run: Command = async (ctx) => {
  await sourcePlugin(ctx.config).install(ctx);
  return 0;
};
