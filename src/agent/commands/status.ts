import type { Command } from '../command-context.js';
import { openSource } from '../agent-runtime.js';
import { sourcePlugin } from '../sources/registry.js';
import { captureUnhealthyError } from '../sources/source-health.js';

/**
 * `indexer status`: JSON on stdout, read without taking the pass lock (works during a pass).
 * Exit 3 when the capture needs repair (`capture.ok` false), after printing everything.
 */
export const run: Command = async (ctx) => {
  // Database errors come out of the source already mapped (a revoked privilege names its GRANT, exit 3).
  const source = await openSource(ctx.config, 'read', ctx);
  try {
    const health = source.captureHealth ? await source.captureHealth() : null;
    const s = await source.status();
    const out = {
      center: ctx.config.center || null,
      source: ctx.config.source,
      ...sourcePlugin(ctx.config).statusTarget(ctx.config),
      capture: health && { ok: health.ok, problems: health.problems, notes: health.notes },
      queue_backlog: s.backlog,
      last_ack_seq: s.last_ack_seq,
      version_high: s.version_high,
      last_run: s.last_run,
      last_error: s.last_error,
      dead_letters: s.dead_letters,
      last_reconcile: s.last_reconcile ?? null,
      reconcile_needed: s.reconcile_needed ? { why: s.reconcile_needed.why, since: s.reconcile_needed.at } : null,
      initial: s.initial,
      missing_iuid: s.missing_iuid ?? null,
      ...(s.detail ? { source_detail: s.detail } : {}),
    };
    ctx.stdout(`${JSON.stringify(out, null, 2)}\n`);
    // Printed first: the JSON says what is wrong; the error names the repairs (exit 3).
    if (health && !health.ok) throw captureUnhealthyError(health);
  } finally {
    await source.close();
  }
};
