import { openRuntime, passDeps } from '../agent-runtime.js';
import type { Command } from '../command-context.js';
import { runSyncPass } from '../pipeline/sync-pass.js';

/** `indexer` / `indexer sync`: one incremental pass (what cron runs). */
export const run: Command = async (ctx) => {
  const runtime = await openRuntime(ctx);
  try {
    await runSyncPass(passDeps(ctx, runtime));
  } finally {
    await runtime.close();
  }
};
