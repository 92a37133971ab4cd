import { once } from 'node:events';
import cron from 'node-cron';
import { ConfigError, IndexerError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';

export interface DaemonOptions {
  schedule: string;
  signal: AbortSignal;
  log: Logger;
  /** One pass; its own failures are logged here and do not stop the daemon. */
  pass: () => Promise<void>;
}

/**
 * Runs `pass` on the cron schedule (six fields = seconds) until the signal aborts. Never two
 * passes at once: a tick that finds a pass still running is skipped. On stop, the pass in flight
 * is awaited (it sees the same signal and abandons its batch, keeping its place).
 */
export async function runDaemon(opts: DaemonOptions): Promise<void> {
  const { log, signal } = opts;
  if (!cron.validate(opts.schedule)) throw new ConfigError(`key "schedule" has value ${JSON.stringify(opts.schedule)}, expected: a valid cron expression`);
  let running: Promise<void> | undefined;
  const tick = (): Promise<void> => {
    if (signal.aborted) return Promise.resolve();
    if (running) {
      log.info('previous pass still running: tick skipped');
      return running;
    }
    running = opts.pass().catch((err: unknown) => logPassFailure(log, err)).finally(() => {
      running = undefined;
    });
    return running;
  };
  const task = cron.schedule(opts.schedule, tick, {
    name: 'indexer-sync',
    noOverlap: true,
    logger: {
      info: (m) => log.debug({ source: 'node-cron' }, m),
      warn: (m) => log.debug({ source: 'node-cron' }, m),
      error: (m) => log.warn({ source: 'node-cron', detail: String(m) }, 'scheduler error'),
      debug: (m) => log.trace({ source: 'node-cron' }, String(m)),
    },
  });
  log.info({ schedule: opts.schedule, next_run: task.getNextRun()?.toISOString() }, 'daemon started');
  try {
    void tick(); // catch up at once rather than wait for the first tick
    if (!signal.aborted) await once(signal, 'abort');
  } finally {
    await task.stop();
    await running;
    await task.destroy();
    log.info('daemon stopped');
  }
}

function logPassFailure(log: Logger, err: unknown): void {
  if (err instanceof IndexerError && err.code === 'INTERRUPTED') return;
  if (err instanceof IndexerError && err.code === 'LOCK_BUSY') {
    log.warn({ code: err.code }, 'another pass holds the lock: tick skipped');
    return;
  }
  // runPass already logged the failed pass with its summary; this keeps the daemon's own record.
  log.warn({ code: err instanceof IndexerError ? err.code : 'UNEXPECTED', detail: (err as Error).message }, 'pass failed; will retry on the next tick');
}
