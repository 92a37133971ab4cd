import { openRuntime, passDeps, requireDeliverySettings } from '../agent-runtime.js';
import type { Command } from '../command-context.js';
import { runDaemon } from '../pipeline/daemon.js';
import { runSyncPass } from '../pipeline/sync-pass.js';

/** `indexer daemon`: sync on the schedule until SIGTERM/SIGINT; exit 0 on a clean stop. */
export const run: Command = async (ctx) => {
  requireDeliverySettings(ctx.config);
  await runDaemon({
    schedule: ctx.config.schedule,
    signal: ctx.signal,
    log: ctx.log,
    // The lock is taken per pass, so a manual run between ticks is possible.
    pass: async () => {
      const runtime = await openRuntime(ctx);
      try {
        await runSyncPass(passDeps(ctx, runtime));
      } finally {
        await runtime.close();
      }
    },
  });
  return 0;
};
