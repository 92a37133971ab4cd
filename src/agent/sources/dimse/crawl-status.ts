import type { DimseState } from './dimse-state.js';

/** Incomplete days listed by `indexer status` (the count is always given). */
const SHOWN = 20;

/** The crawl's and the sweeps' places and the days not read completely, for `indexer status`. */
export function crawlStatus(s: Readonly<DimseState>, historyFrom: string): Record<string, unknown> {
  const incomplete = Object.entries(s.incomplete).sort((a, b) => b[0].localeCompare(a[0]));
  return {
    crawl: { start_day: s.initial.start_day, next_day: s.initial.next_day, oldest_day: historyFrom, crawled: s.initial.crawled, done: s.initial.done },
    warm_sweep: s.warm,
    cold_sweep: s.cold,
    incomplete_days: { count: incomplete.length, days: incomplete.slice(0, SHOWN).map(([day, v]) => ({ day, why: v.why, since: v.at })) },
    missing_once: Object.keys(s.absent).length,
    learned_answer_cap: s.learned_cap || null,
  };
}
