import { DatabaseError } from '../../../shared/errors.js';
import type { AgentConfig } from '../../config.js';
import type { SourcePlugin } from '../source-plugin.js';
import { installCapture, installSql, uninstallCapture } from './capture-objects.js';
import { captureBlockers } from './capture-presence.js';
import { withDatabaseErrors } from './database-errors.js';
import { dcm4cheeCheckLines } from './dcm4chee-check.js';
import { Dcm4cheeSource } from './dcm4chee-source.js';
import { openPacsConnection, openPacsPool } from './pacs-db.js';
import { writeReconcileMark } from './reconcile-mark.js';
import { acquireRunLock } from './run-lock.js';

/** Opens the pool, failing clearly when `indexer install` was not run. */
async function open(config: AgentConfig): Promise<Dcm4cheeSource> {
  const pool = await openPacsPool(config.database);
  try {
    const blockers = await withDatabaseErrors(config.database, () => captureBlockers(pool));
    if (blockers.length > 0) {
      throw new DatabaseError('CAPTURE_MISSING', `capture objects are not installed in ${config.database.name} (${blockers.join(', ')})`, {
        hint: 'run `indexer install` (or have a DBA apply `indexer install --print`)',
      });
    }
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  return new Dcm4cheeSource(pool, config.center, config.database);
}

/** One connection for the capture objects' DDL, closed whatever happens. */
async function withConnection(config: AgentConfig, work: (conn: Awaited<ReturnType<typeof openPacsConnection>>) => Promise<unknown>): Promise<void> {
  const conn = await openPacsConnection(config.database);
  try {
    await work(conn);
  } finally {
    await conn.end().catch(() => undefined);
  }
}

/** dcm4chee 2.x: triggers and a change queue in its MySQL pacsdb (docs/capture.md). */
export const dcm4chee: SourcePlugin = {
  name: 'dcm4chee',
  // Read-only opens write nothing the passes own: indexer_state rows are written one by one.
  open: (config) => open(config),
  // A database lock, held by a dedicated connection for the pass.
  lock: (config) => acquireRunLock(config.database),
  async install(ctx) {
    if (ctx.flags.print === true) {
      ctx.stdout(installSql());
      return;
    }
    await withConnection(ctx.config, async (conn) => {
      const { before } = await installCapture(conn, ctx.config.database.name, ctx.log);
      // Repairing a capture that was installed but incomplete: the changes made meanwhile were never queued.
      if (before.stateTable && (before.missingTriggers.length > 0 || before.queue === 'missing')) {
        await writeReconcileMark(conn, 'capture objects were missing until `indexer install` repaired them');
      }
    });
  },
  // Refuses while changes are queued (they would go with the queue) unless --force.
  async uninstall(ctx) {
    await withConnection(ctx.config, (conn) => uninstallCapture(conn, ctx.config.database.name, ctx.log, { force: ctx.flags.force === true }));
    ctx.stdout('capture objects removed, with the checkpoints: after a later `indexer install`, run `indexer initial`, '
      + 'then `indexer reconcile` (initial alone cannot remove at the receiver the studies deleted meanwhile)\n');
  },
  checkLines: (ctx) => dcm4cheeCheckLines(ctx),
  statusTarget: (config) => ({ database: config.database.name }),
};
