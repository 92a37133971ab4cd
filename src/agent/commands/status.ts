import type { Command } from '../command-context.js';
import { openSource } from '../agent-runtime.js';

/** `indexer status`: JSON on stdout, read without taking the pass lock (works during a pass). */
export const run: Command = async (ctx) => {
  const source = await openSource(ctx.config);
  try {
    const s = await source.status();
    const out = {
      center: ctx.config.center || null,
      source: ctx.config.source,
      database: ctx.config.source === 'orthanc' ? null : ctx.config.database.name,
      queue_backlog: s.backlog,
      last_ack_seq: s.last_ack_seq,
      version_high: s.version_high,
      last_run: s.last_run,
      last_error: s.last_error,
      dead_letters: s.dead_letters,
      last_reconcile: s.last_reconcile ?? null,
      initial: s.initial,
    };
    ctx.stdout(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    await source.close();
  }
};
