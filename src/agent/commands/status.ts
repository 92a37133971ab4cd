import type { Command } from '../command-context.js';
import { openSource } from '../agent-runtime.js';
import { captureUnhealthyError } from '../pacs/capture-health.js';
import { guardDatabaseErrors } from '../pacs/database-error-guard.js';

/**
 * `indexer status`: JSON on stdout, read without taking the pass lock (works during a pass).
 * Exit 3 when the capture needs repair (`capture.ok` false), after printing everything.
 */
export const run: Command = async (ctx) => {
  const opened = await openSource(ctx.config);
  // A revoked privilege is named with its GRANT (exit 3), as during a pass.
  const source = ctx.config.source === 'orthanc' ? opened : guardDatabaseErrors(opened, ctx.config.database);
  try {
    const health = source.captureHealth ? await source.captureHealth() : null;
    const s = await source.status();
    const out = {
      center: ctx.config.center || null,
      source: ctx.config.source,
      database: ctx.config.source === 'orthanc' ? null : ctx.config.database.name,
      capture: health && { ok: health.ok, problems: health.problems, notes: health.notes },
      queue_backlog: s.backlog,
      last_ack_seq: s.last_ack_seq,
      version_high: s.version_high,
      last_run: s.last_run,
      last_error: s.last_error,
      dead_letters: s.dead_letters,
      last_reconcile: s.last_reconcile ?? null,
      initial: s.initial,
      ...(s.missing_iuid ? { missing_iuid: s.missing_iuid } : {}),
    };
    ctx.stdout(`${JSON.stringify(out, null, 2)}\n`);
    // Printed first: the JSON says what is wrong; the error names the repairs (exit 3).
    if (health && !health.ok) throw captureUnhealthyError(health);
  } finally {
    await source.close();
  }
};
