import { ConfigError, DatabaseError } from '../shared/errors.js';
import type { CommandContext } from './command-context.js';
import type { AgentConfig } from './config.js';
import type { Delivery } from './delivery/delivery.js';
import { createLegacyClient } from './delivery/legacy-client.js';
import { createReceiverClient } from './delivery/receiver-client.js';
import { captureBlockers } from './pacs/capture-presence.js';
import { openPacsPool } from './pacs/pacs-db.js';
import { guardDatabaseErrors } from './pacs/database-error-guard.js';
import { acquireRunLock } from './pacs/run-lock.js';
import { OrthancClient } from './orthanc/orthanc-client.js';
import { acquireStateLock } from './orthanc/state-lock.js';
import { OrthancSource } from './source/orthanc-source.js';
import { Dcm4cheeSource } from './source/dcm4chee-source.js';
import type { StudySource } from './source/study-source.js';
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

/** The Orthanc REST client of the configuration. */
export function orthancClient(config: AgentConfig): OrthancClient {
  const o = config.orthanc;
  return new OrthancClient({ url: o.url, username: o.username, password: o.password, timeoutMs: config.http.timeout_ms, maxListBytes: o.max_list_bytes });
}

/** Opens the configured source, failing clearly when `indexer install` was not run (dcm4chee). */
export async function openSource(config: AgentConfig): Promise<StudySource> {
  if (config.source === 'orthanc') {
    const o = config.orthanc;
    return OrthancSource.open({ client: orthancClient(config), center: config.center, stateFile: o.state_file, newStudy: o.new_study });
  }
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

/** One pass per source at a time: a database lock for dcm4chee, a lock beside the state file for Orthanc. */
function acquirePassLock(config: AgentConfig): Promise<{ lost?: AbortSignal; release(): Promise<void> }> {
  return config.source === 'orthanc' ? acquireStateLock(config.orthanc.state_file) : acquireRunLock(config.database);
}

/** Opens everything for one pass, holding the per-database lock until close(). */
export async function openRuntime(ctx: CommandContext): Promise<Runtime> {
  requireDeliverySettings(ctx.config);
  const lock = await acquirePassLock(ctx.config);
  let source: StudySource | undefined;
  try {
    source = await openSource(ctx.config);
    // Driver errors mid-pass (server restarted, connection killed) become exit 3, not "unexpected".
    if (ctx.config.source !== 'orthanc') source = guardDatabaseErrors(source, ctx.config.database);
    const delivery = createDelivery(ctx);
    return {
      source,
      delivery,
      signal: lock.lost ? AbortSignal.any([ctx.signal, lock.lost]) : ctx.signal,
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
  return { source: runtime.source, delivery: runtime.delivery, log: ctx.log, signal: runtime.signal ?? ctx.signal, readChunk: ctx.config.read_chunk };
}
