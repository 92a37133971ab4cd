import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, LockBusyError } from '../../shared/errors.js';
import type { CommandContext } from '../command-context.js';
import { openRuntime, openSource, requireDeliverySettings, type Runtime } from '../agent-runtime.js';
import type { Delivery } from '../delivery/delivery.js';
import { throwIfStopped } from '../pipeline/run-pass.js';
import type { ReconcileReader, StudySource } from '../sources/study-source.js';
import { createReconcileClient, type ReconcileClient } from './reconcile-client.js';

/**
 * How long a repairing reconcile waits for a pass in progress (a sync takes seconds; an initial
 * load may take hours, and then reconcile gives up like sync does: exit 4).
 */
export const LOCK_WAIT_MS = 10 * 60_000;
const LOCK_POLL_MS = 2_000;

export interface ReconcileSession {
  source: StudySource;
  /** The source's reconcile capability. */
  reader: ReconcileReader;
  client: ReconcileClient;
  /** null under --dry-run. */
  delivery: Delivery | null;
  close(): Promise<void>;
}

/** Reconciliation needs the v2 reconcile endpoints (the source's capability is checked once it is open). */
export function requireReconcileSupport(config: CommandContext['config']): void {
  if (config.protocol !== 'v2') {
    throw new ConfigError('indexer reconcile needs protocol "v2" (the legacy receiver has no reconcile endpoints)');
  }
  requireDeliverySettings(config);
}

/**
 * openRuntime (the per-database pass lock, the source, delivery), waiting up to `waitMs` while
 * another pass holds the lock instead of giving up at once: a nightly reconcile often meets a
 * 5-minute sync in progress. Past the wait it fails like sync (LOCK_BUSY, exit 4).
 */
export async function openRuntimeWaiting(ctx: CommandContext, waitMs = LOCK_WAIT_MS, pollMs = LOCK_POLL_MS): Promise<Runtime> {
  const deadline = Date.now() + waitMs;
  let waiting = false;
  for (;;) {
    try {
      return await openRuntime(ctx);
    } catch (err) {
      if (!(err instanceof LockBusyError)) throw err;
      if (Date.now() + pollMs > deadline) {
        throw new LockBusyError(`${err.message} (reconcile waited ${Math.ceil(waitMs / 1000)} s)`);
      }
      if (!waiting) ctx.log.info({ wait_ms: waitMs }, 'another pass holds the lock: reconcile waits for it');
      waiting = true;
      await sleep(pollMs, undefined, { signal: ctx.signal }).catch(() => undefined);
      throwIfStopped(ctx.signal);
    }
  }
}

/**
 * A repairing reconcile holds the pass lock like sync (versions are allocated, records sent); a
 * dry run only reads, so it takes no lock and never delays a sync.
 */
export async function openReconcileSession(ctx: CommandContext, dryRun: boolean, waitMs = LOCK_WAIT_MS): Promise<ReconcileSession> {
  requireReconcileSupport(ctx.config);
  const runtime = dryRun ? null : await openRuntimeWaiting(ctx, waitMs);
  let source: StudySource | undefined = runtime?.source;
  const closeSource = async () => {
    if (runtime) await runtime.close();
    else await source?.close().catch(() => undefined);
  };
  try {
    source ??= await openSource(ctx.config, 'read', ctx);
  } catch (err) {
    await closeSource();
    throw err;
  }
  const reader = source.reconcile;
  if (!reader) {
    await closeSource();
    throw new ConfigError(`indexer reconcile is not supported by this source (source is "${ctx.config.source}")`, {
      hint: '`indexer initial --restart` re-sends every study',
    });
  }
  const client = createReconcileClient(ctx.config, ctx.log.child({ component: 'reconcile' }));
  return {
    source,
    reader,
    client,
    delivery: runtime?.delivery ?? null,
    async close() {
      await client.close().catch(() => undefined);
      await closeSource();
    },
  };
}
