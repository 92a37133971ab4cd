import { ConfigError, DatabaseError } from '../shared/errors.js';
import type { CommandContext } from './command-context.js';
import type { AgentConfig } from './config.js';
import type { Delivery } from './delivery/delivery.js';
import { createLegacyClient } from './delivery/legacy-client.js';
import { createReceiverClient } from './delivery/receiver-client.js';
import { captureBlockers } from './pacs/capture-presence.js';
import { openPacsPool } from './pacs/pacs-db.js';
import { acquireRunLock, type RunLock } from './pacs/run-lock.js';
import { Dcm4cheeSource } from './source/dcm4chee-source.js';
import type { StudySource } from './source/study-source.js';
import type { PassDeps } from './pipeline/run-pass.js';

/** What a pass needs, opened in order and closed in reverse. */
export interface Runtime {
  source: StudySource;
  delivery: Delivery;
  close(): Promise<void>;
}

/** Settings a sending command cannot run without; checked before anything is opened. */
export function requireDeliverySettings(config: AgentConfig): void {
  if (config.source !== 'dcm4chee') throw new ConfigError(`source "${config.source}" is not supported by this version`);
  if (!config.center) throw new ConfigError('no centre code: set center (server.json {"server": "000"}, INDEXER_CENTER or --center)');
  if (!config.key) throw new ConfigError('no centre key: set key in config.json, INDEXER_KEY or INDEXER_KEY_FILE');
  if (config.protocol === 'v2' && !config.url) throw new ConfigError('no receiver URL: set url (INDEXER_URL or --url)');
}

export function createDelivery(ctx: CommandContext): Delivery {
  const log = ctx.log.child({ component: 'delivery' });
  return ctx.config.protocol === 'legacy' ? createLegacyClient(ctx.config, log) : createReceiverClient(ctx.config, log);
}

/** Opens the PACS pool and the source, failing clearly when `indexer install` was not run. */
export async function openSource(config: AgentConfig): Promise<Dcm4cheeSource> {
  const pool = await openPacsPool(config.database);
  try {
    const blockers = await captureBlockers(pool);
    if (blockers.length > 0) {
      throw new DatabaseError('CAPTURE_MISSING', `capture objects are not installed in ${config.database.name} (${blockers.join(', ')})`, {
        hint: 'run `indexer install` (or have a DBA apply `indexer install --print`)',
      });
    }
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  return new Dcm4cheeSource(pool, config.center);
}

/** Opens everything for one pass, holding the per-database lock until close(). */
export async function openRuntime(ctx: CommandContext): Promise<Runtime> {
  requireDeliverySettings(ctx.config);
  const lock: RunLock = await acquireRunLock(ctx.config.database);
  let source: StudySource | undefined;
  try {
    source = await openSource(ctx.config);
    const delivery = createDelivery(ctx);
    return {
      source,
      delivery,
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

export function passDeps(ctx: CommandContext, runtime: Runtime): PassDeps {
  return { source: runtime.source, delivery: runtime.delivery, log: ctx.log, signal: ctx.signal, readChunk: ctx.config.read_chunk };
}
