import type { Command } from '../command-context.js';
import { maskSecrets } from '../config.js';

/** `indexer config`: the effective configuration, secrets masked. */
export const run: Command = async (ctx) => {
  ctx.stdout(`${JSON.stringify(maskSecrets(ctx.config), null, 2)}\n`);
};
