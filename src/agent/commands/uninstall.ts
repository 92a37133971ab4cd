import type { Command } from '../command-context.js';
import { sourcePlugin } from '../sources/registry.js';

/** `indexer uninstall`: removes the source's capture objects, triggers first. */
export const run: Command = async (ctx) => {
  await sourcePlugin(ctx.config).uninstall(ctx);
  return 0;
};
