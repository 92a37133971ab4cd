import { openRuntime, openSource, passDeps, requireDeliverySettings } from '../agent-runtime.js';
import type { Command } from '../command-context.js';
import { createHeartbeat, startHeartbeatTimer } from '../delivery/heartbeat.js';
import { runDaemon } from '../pipeline/daemon.js';
import { runSyncPass } from '../pipeline/sync-pass.js';

/** `indexer daemon`: sync on the schedule until SIGTERM/SIGINT; exit 0 on a clean stop. */
export const run: Command = async (ctx) => {
  requireDeliverySettings(ctx.config);
  const log = ctx.log.child({ component: 'heartbeat' });
  const heartbeat = createHeartbeat(ctx.config, log);
  let passes = 0;
  // Between passes too (a schedule of hours, a pass stuck on a lock): the receiver hears from the agent.
  const timer = startHeartbeatTimer(ctx.config, heartbeat, {
    signal: ctx.signal, log, passRunning: () => passes > 0, openSource: () => openSource(ctx.config, 'read', ctx),
  });
  try {
    await runDaemon({
      schedule: ctx.config.schedule,
      signal: ctx.signal,
      log: ctx.log,
      // The lock is taken per pass, so a manual run between ticks is possible.
      pass: async () => {
        passes++;
        try {
          const runtime = await openRuntime(ctx);
          try {
            await runSyncPass(passDeps(ctx, runtime, heartbeat));
          } finally {
            await runtime.close();
          }
        } finally {
          passes--;
        }
      },
    });
  } finally {
    await timer.stop();
  }
  return 0;
};
