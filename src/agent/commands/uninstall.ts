import type { Command } from '../command-context.js';
import { sourcePlugin } from '../sources/registry.js';

/**
 * `indexer uninstall [--force]`: removes the source's capture objects, triggers first; a source
 * with a change queue refuses while changes are queued unless --force (sources/<name>/).
 */
export const run: Command = async (ctx) => {
  await sourcePlugin(ctx.config).uninstall(ctx);
  return 0;
};
