import { ConfigError } from '../../shared/errors.js';
import type { StudyRecord } from '../../shared/study-record.js';
import { openRuntime, openSource, type Runtime } from '../agent-runtime.js';
import type { Command, CommandContext } from '../command-context.js';
import type { DeadLetterEntry, DeadLetterStore, StudySource } from '../sources/study-source.js';
import { limitOf, notSupported, wantsJson } from './listing-args.js';

const PAGE = 500;
const ACTIONS = ['list', 'retry', 'discard'] as const;
type Action = (typeof ACTIONS)[number];

/** Which options belong to which action (the spec lists them for the whole command). */
const ACTION_ONLY: Record<string, Action[]> = { limit: ['list'], json: ['list'], 'with-record': ['list'], all: ['retry', 'discard'], yes: ['discard'] };

function parseAction(ctx: CommandContext): { action: Action; ids: number[] | null } {
  const [word = 'list', ...rest] = ctx.args;
  if (!(ACTIONS as readonly string[]).includes(word)) {
    throw new ConfigError(`dead-letters: unknown action "${word}" (expected list, retry or discard)`, { hint: 'see `indexer help dead-letters`' });
  }
  const action = word as Action;
  for (const [flag, actions] of Object.entries(ACTION_ONLY)) {
    if (ctx.flags[flag] !== undefined && !actions.includes(action)) {
      throw new ConfigError(`dead-letters ${action} does not accept --${flag}`, { hint: 'see `indexer help dead-letters`' });
    }
  }
  if (action === 'list' && rest.length > 0) throw new ConfigError('dead-letters list takes no ids');
  const ids = rest.map((r) => {
    if (!/^[1-9]\d{0,17}$/.test(r)) throw new ConfigError(`dead-letters ${action}: id ${JSON.stringify(r)} is invalid: expected a dead letter's id (a whole number)`);
    return Number(r);
  });
  if (ids.length > 0 && ctx.flags.all === true) throw new ConfigError(`dead-letters ${action}: give ids or --all, not both`);
  if (action === 'discard' && ids.length === 0 && ctx.flags.all !== true) {
    throw new ConfigError('dead-letters discard needs the ids to remove, or --all --yes');
  }
  if (action === 'discard' && ctx.flags.all === true && ctx.flags.yes !== true) {
    throw new ConfigError('dead-letters discard --all removes every dead letter without sending it: add --yes to confirm');
  }
  return { action, ids: ids.length > 0 ? ids : null };
}

function storeOf(ctx: CommandContext, source: StudySource): DeadLetterStore {
  if (!source.listDeadLetters || !source.removeDeadLetters || !source.updateDeadLetterReason) {
    throw notSupported(ctx, '`indexer dead-letters`', '`indexer status` counts them');
  }
  return source as DeadLetterStore;
}

/** Ids that do not exist are refused before anything is changed. */
async function requireIds(store: DeadLetterStore, ids: readonly number[]): Promise<void> {
  const { entries } = await store.listDeadLetters({ limit: ids.length, ids });
  const found = new Set(entries.map((e) => e.id));
  const missing = ids.filter((id) => !found.has(id));
  if (missing.length > 0) throw new ConfigError(`no dead letter with id ${missing.join(', ')}`, { hint: 'see `indexer dead-letters list`' });
}

function humanList(total: number, entries: DeadLetterEntry[]): string {
  const lines = [`${total} dead letter${total === 1 ? '' : 's'}`];
  for (const e of entries) {
    lines.push(`  #${e.id}  ${e.created_at}  source_seq ${e.source_seq}  ${e.study_iuid ?? '?'}`, `        ${e.reason}`);
  }
  if (entries.length < total) lines.push(`… ${total - entries.length} more (--limit N)`);
  lines.push('', 'retry: `indexer dead-letters retry [ID...]`   discard: `indexer dead-letters discard ID... | --all --yes`');
  return `${lines.join('\n')}\n`;
}

async function list(ctx: CommandContext): Promise<void> {
  const source = await openSource(ctx.config, 'read', ctx);
  try {
    const { total, entries } = await storeOf(ctx, source).listDeadLetters({ limit: limitOf(ctx), withRecord: ctx.flags['with-record'] === true });
    ctx.stdout(wantsJson(ctx) ? `${JSON.stringify({ total, entries }, null, 2)}\n` : humanList(total, entries));
  } finally {
    await source.close();
  }
}

/**
 * Re-sends the stored records, unchanged (same version: a newer one at the receiver wins, the
 * old one is then acknowledged as stale), through the pass's delivery. Removal happens at the end,
 * after every answer, so ids stay valid throughout.
 */
async function retry(ctx: CommandContext, runtime: Runtime, store: DeadLetterStore, ids: number[] | null): Promise<void> {
  const acked: number[] = [];
  let refused = 0;
  let unreadable = 0;
  for (let after = 0; ;) {
    const { entries } = await store.listDeadLetters({ afterId: after, limit: PAGE, withRecord: true, ...(ids ? { ids } : {}) });
    if (entries.length === 0) break;
    after = entries[entries.length - 1]!.id;
    const byRecord = new Map<StudyRecord, number>();
    for (const e of entries) {
      if (e.record) byRecord.set(e.record, e.id);
      else unreadable += 1;
    }
    const result = await runtime.delivery.send([...byRecord.keys()], runtime.signal ?? ctx.signal);
    for (const r of result.rejected) {
      const id = byRecord.get(r.record);
      if (id === undefined) continue;
      byRecord.delete(r.record);
      refused += 1;
      await store.updateDeadLetterReason(id, r.reason);
    }
    acked.push(...byRecord.values());
  }
  const removed = await store.removeDeadLetters(acked);
  ctx.log.info({ acknowledged: removed, refused, unreadable }, 'dead letters retried');
  ctx.stdout(`retried: ${removed} acknowledged and removed, ${refused} refused again (kept, with the new reason)${unreadable ? `, ${unreadable} without a stored record (kept)` : ''}\n`);
}

/** `indexer dead-letters [list | retry [ID...] | discard ID... | --all --yes]`. */
export const run: Command = async (ctx) => {
  const { action, ids } = parseAction(ctx);
  if (action === 'list') return list(ctx);
  // Changing them holds the pass lock: a sync writing dead letters meanwhile would shift ids.
  const runtime = await openRuntime(ctx);
  try {
    const store = storeOf(ctx, runtime.source);
    if (ids) await requireIds(store, ids);
    if (action === 'retry') {
      await retry(ctx, runtime, store, ids);
    } else {
      const removed = await store.removeDeadLetters(ids ?? 'all');
      ctx.log.info({ removed }, 'dead letters discarded');
      ctx.stdout(`discarded ${removed} dead letter${removed === 1 ? '' : 's'}\n`);
    }
  } finally {
    await runtime.close();
  }
};
