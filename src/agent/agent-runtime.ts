import { ConfigError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { CommandContext } from './command-context.js';
import type { AgentConfig } from './config.js';
import type { Delivery } from './delivery/delivery.js';
import { createHeartbeat, type Heartbeat } from './delivery/heartbeat.js';
import { createLegacyClient } from './delivery/legacy-client.js';
import { createReceiverClient } from './delivery/receiver-client.js';
import { sourcePlugin } from './sources/registry.js';
import type { OpenMode } from './sources/source-plugin.js';
import type { StudySource } from './sources/study-source.js';
import type { PassDeps } from './pipeline/run-pass.js';

/** What a pass needs, opened in order and closed in reverse. */
export interface Runtime {
  source: StudySource;
  delivery: Delivery;
  /** The pass's signal: the command's stop signal, also aborted when the pass lock is lost. */
  signal?: AbortSignal;
  close(): Promise<void>;
}

/** Settings a sending command cannot run without; checked before anything is opened. */
export function requireDeliverySettings(config: AgentConfig): void {
  if (!config.center) throw new ConfigError('no centre code: set center (server.json {"server": "000"}, INDEXER_CENTER or --center)');
  if (!config.key) throw new ConfigError('no centre key: set key in config.json, INDEXER_KEY or INDEXER_KEY_FILE');
  if (config.protocol === 'v2' && !config.url) throw new ConfigError('no receiver URL: set url (INDEXER_URL or --url)');
}

export function createDelivery(ctx: CommandContext): Delivery {
  const log = ctx.log.child({ component: 'delivery' });
  return ctx.config.protocol === 'legacy' ? createLegacyClient(ctx.config, log) : createReceiverClient(ctx.config, log);
}

/** Opens the configured source (`read`: without the pass lock, e.g. status, queue, listings). */
export function openSource(config: AgentConfig, mode: OpenMode, env: { log: Logger; signal?: AbortSignal }): Promise<StudySource> {
  return sourcePlugin(config).open(config, mode, { log: env.log.child({ component: 'source' }), signal: env.signal });
}

/** Opens everything for one pass, holding the per-database lock until close(). */
export async function openRuntime(ctx: CommandContext): Promise<Runtime> {
  requireDeliverySettings(ctx.config);
  const lock = await sourcePlugin(ctx.config).lock(ctx.config);
  let source: StudySource | undefined;
  const signal = lock.lost ? AbortSignal.any([ctx.signal, lock.lost]) : ctx.signal;
  try {
    source = await openSource(ctx.config, 'pass', { log: ctx.log, signal });
    const delivery = createDelivery(ctx);
    return {
      source,
      delivery,
      signal,
      async close() {
        await delivery.close().catch(() => undefined);
        await source!.close().catch(() => undefined);
        await lock.release().catch(() => undefined);
      },
    };
  } catch (err) {
    await source?.close().catch(() => undefined);
    await lock.release().catch(() => undefined);
    throw err;
  }
}

/** `heartbeat`: the one to post after the pass (daemon keeps one for its interval); absent: a new one. */
export function passDeps(ctx: CommandContext, runtime: Runtime, heartbeat?: Heartbeat): PassDeps {
  const signal = runtime.signal ?? ctx.signal;
  const beat = heartbeat ?? createHeartbeat(ctx.config, ctx.log.child({ component: 'heartbeat' }));
  return {
    source: runtime.source, delivery: runtime.delivery, log: ctx.log, signal, readChunk: ctx.config.read_chunk,
    heartbeat: (summary) => beat.post(runtime.source, signal, summary),
  };
}
