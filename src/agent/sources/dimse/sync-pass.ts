import type { Logger } from '../../../shared/logger.js';
import { emptyConversionStats, type ConversionStats } from '../../record/conversion-stats.js';
import type { ReconcileClient } from '../../reconcile/reconcile-client.js';
import { answerRecord } from './answer-record.js';
import { DayChecker } from './day-check.js';
import type { DimseStateFile } from './dimse-state.js';
import type { Outcome, WindowWalk } from './outcome-queue.js';
import { PassPlan, type PlanSettings } from './pass-plan.js';
import type { WindowReader } from './window-reader.js';

export interface SyncPassDeps {
  reader: WindowReader;
  receiver: ReconcileClient;
  state: DimseStateFile;
  plan: PlanSettings;
  maxQueries: number;
  center: string;
  log: Logger;
  signal: AbortSignal;
  today: string;
  now: Date;
}

/**
 * One sync pass: the plan's windows while the query budget lasts, each compared with the
 * receiver; studies missing twice in a row are asked for by UID before they become tombstones
 * (found elsewhere: a corrected date, sent; not found: deleted).
 */
export class SyncPass implements WindowWalk {
  private stats = emptyConversionStats();
  private readonly plan: PassPlan;
  private readonly checker: DayChecker;
  private spent = false;

  constructor(private readonly deps: SyncPassDeps) {
    this.plan = new PassPlan(deps.state.state, deps.today, deps.plan, deps.now, deps.state.state.initial.done);
    this.checker = new DayChecker(deps.receiver, deps.signal);
  }

  async next(): Promise<Outcome | null> {
    const { reader, state, center } = this.deps;
    const planned = this.plan.next();
    if (!planned) return null;
    // The hot days are read whatever the budget; the rest go on next pass once it is spent.
    if (planned.lane !== 'hot' && reader.queries >= this.deps.maxQueries) {
      if (!this.spent) this.deps.log.info({ queries: reader.queries }, 'query budget of the pass spent: the sweeps go on next pass');
      this.spent = true;
      return null;
    }
    const { from, to } = planned.window;
    const before = reader.queries;
    const read = await reader.read(planned.window);
    if (planned.lane === 'warm' || planned.lane === 'cold') this.plan.adapt(read.answers.length, reader.queries - before > 1, reader.cap);
    this.stats.missing_iuid += read.dropped;
    const records = read.answers.map((a) => answerRecord(a, center, 0, this.stats));
    const verdict = await this.checker.check(from, to, records, read.incomplete, state.state);
    const send = [...verdict.send];
    const gone: string[] = [];
    let resolved: string[] = [];
    if (verdict.confirm.length > 0) {
      const found = await reader.byUids(verdict.confirm.map((c) => c.iuid));
      if (found) {
        const present = new Set(found.map((a) => a.studyInstanceUid));
        for (const a of found) send.push(answerRecord(a, center, 0, this.stats));
        for (const c of verdict.confirm) if (!present.has(c.iuid)) gone.push(c.iuid);
        resolved = verdict.confirm.map((c) => c.iuid);
      }
    }
    return {
      records: send, gone, days: 0, read: read.answers.length,
      apply(s, at) {
        verdict.apply(s, at);
        planned.apply(s, at);
        for (const iuid of resolved) delete s.absent[iuid];
      },
    };
  }

  takeStats(): ConversionStats {
    const out = this.stats;
    this.stats = emptyConversionStats();
    return out;
  }
}
