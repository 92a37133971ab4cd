import { openSource } from '../agent-runtime.js';
import type { Command } from '../command-context.js';
import type { QueueReport } from '../sources/study-source.js';
import { formatAge, limitOf, notSupported, wantsJson } from './listing-args.js';

const KIND_NAMES: Record<string, string> = { I: 'new', U: 'changed', D: 'deleted' };

function humanQueue(q: QueueReport): string {
  const kinds = Object.entries(q.by_kind).map(([k, n]) => `${n} ${k} (${KIND_NAMES[k] ?? k})`).join(', ');
  const lines = [`${q.total} change${q.total === 1 ? '' : 's'} queued: ${kinds}`];
  if (q.total > 0) lines.push(`oldest queued ${q.oldest_queued_at ?? 'at an unknown time'} (${formatAge(q.oldest_age_s)} ago)`);
  if (q.entries.length > 0) {
    lines.push('', `${'seq'.padStart(10)}  op  ${'study_pk'.padStart(10)}  queued at            study_iuid (deletions)`);
    for (const e of q.entries) {
      lines.push(`${String(e.seq).padStart(10)}  ${e.op.padEnd(2)}  ${String(e.study_pk).padStart(10)}  ${(e.queued_at ?? '?').padEnd(19)}  ${e.study_iuid ?? ''}`);
    }
    if (q.entries.length < q.total) lines.push(`… ${q.total - q.entries.length} more (--limit N)`);
  }
  return `${lines.join('\n')}\n`;
}

/** `indexer queue`: what the next sync will send, oldest first; read without the pass lock. */
export const run: Command = async (ctx) => {
  const limit = limitOf(ctx);
  const source = await openSource(ctx.config, 'read', ctx);
  try {
    if (!source.inspectQueue) {
      throw notSupported(ctx, '`indexer queue`', 'this source has no change queue; `indexer status` shows its backlog');
    }
    const q = await source.inspectQueue(limit);
    ctx.stdout(wantsJson(ctx) ? `${JSON.stringify(q, null, 2)}\n` : humanQueue(q));
  } finally {
    await source.close();
  }
};
