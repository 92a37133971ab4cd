import { openRuntime, passDeps } from '../agent-runtime.js';
import type { Command } from '../command-context.js';
import { runInitialLoad } from '../pipeline/initial-load.js';

/** `indexer initial [--restart]`: the first load, resumable. */
export const run: Command = async (ctx) => {
  const runtime = await openRuntime(ctx);
  try {
    await runInitialLoad(passDeps(ctx, runtime), { interactive: ctx.interactive, stderr: ctx.stderr, log: ctx.log }, ctx.flags.restart === true);
  } finally {
    await runtime.close();
  }
};
