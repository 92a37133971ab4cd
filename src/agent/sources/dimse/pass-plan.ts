import type { DimseState, SweepState } from './dimse-state.js';
import { SpanGauge } from './span-gauge.js';
import { addDays } from './study-days.js';
import type { StudyWindow } from './window-reader.js';

export interface PlanSettings {
  hotDays: number;
  warmDays: number;
  warmEveryMs: number;
  coldEveryMs: number;
  historyFrom: string;
  maxSpanDays: number;
}

export type Lane = 'hot' | 'retry' | 'warm' | 'cold';

/** One window of a sync pass and what delivering it moves: the sweep's place. */
export interface PlannedWindow {
  lane: Lane;
  window: StudyWindow;
  apply(state: DimseState, at: string): void;
}

/** Incomplete days retried per pass, oldest attempt first. */
const RETRIES_PER_PASS = 10;

function due(sweep: SweepState, everyMs: number, now: Date): boolean {
  if (sweep.next_day !== null) return true;
  return sweep.finished_at === null || now.getTime() - Date.parse(sweep.finished_at) >= everyMs;
}

/**
 * The windows of one sync pass, in order: the hot days (today and the days before it), days left
 * incomplete, then the warm sweep and the cold sweep of the whole history where due, each going on
 * from where the last pass stopped. The caller stops asking when its query budget is spent.
 */
export class PassPlan {
  private readonly fixed: PlannedWindow[] = [];
  private readonly sweeps: { lane: 'warm' | 'cold'; next: string; last: string; startedAt: string }[] = [];
  private readonly span: SpanGauge;

  constructor(state: Readonly<DimseState>, today: string, s: PlanSettings, now: Date, withCold: boolean) {
    this.span = new SpanGauge(s.maxSpanDays);
    const hotOldest = addDays(today, -(s.hotDays - 1));
    for (let d = today; d >= hotOldest; d = addDays(d, -1)) this.fixed.push(this.single('hot', d));
    const retries = Object.entries(state.incomplete).filter(([d]) => d < hotOldest || d > today)
      .sort((a, b) => a[1].at.localeCompare(b[1].at)).slice(0, RETRIES_PER_PASS);
    for (const [d] of retries) this.fixed.push(this.single('retry', d));
    const warmOldest = addDays(today, -(s.warmDays - 1));
    this.addSweep('warm', state.warm, addDays(hotOldest, -1), maxDay(warmOldest, s.historyFrom), s.warmEveryMs, now);
    if (withCold) this.addSweep('cold', state.cold, addDays(minDay(hotOldest, warmOldest), -1), s.historyFrom, s.coldEveryMs, now);
  }

  /** The next window, or null when the pass has nothing left to read. */
  next(): PlannedWindow | null {
    const fixed = this.fixed.shift();
    if (fixed) return fixed;
    const sweep = this.sweeps[0];
    if (!sweep) return null;
    const { lane, last, startedAt } = sweep;
    const to = sweep.next < last ? last : sweep.next;
    const from = maxDay(addDays(to, -(this.span.days - 1)), last);
    const done = from <= last;
    if (done) this.sweeps.shift();
    else sweep.next = addDays(from, -1);
    return {
      lane, window: { from, to },
      apply(state, at) {
        state[lane] = done
          ? { next_day: null, last_day: null, started_at: startedAt, finished_at: at }
          : { next_day: addDays(from, -1), last_day: last, started_at: startedAt, finished_at: state[lane].finished_at };
      },
    };
  }

  /** After each sweep window: the next one spans more days, or fewer. */
  adapt(answers: number, split: boolean, cap: number): void {
    this.span.adapt(answers, split, cap);
  }

  private single(lane: Lane, day: string): PlannedWindow {
    return { lane, window: { from: day, to: day }, apply: () => undefined };
  }

  private addSweep(lane: 'warm' | 'cold', sweep: SweepState, newest: string, oldest: string, everyMs: number, now: Date): void {
    if (newest < oldest || !due(sweep, everyMs, now)) return;
    const resume = sweep.next_day !== null && sweep.last_day !== null;
    this.sweeps.push({
      lane,
      next: resume ? minDay(sweep.next_day!, newest) : newest,
      last: resume ? sweep.last_day! : oldest,
      startedAt: resume && sweep.started_at ? sweep.started_at : now.toISOString(),
    });
  }
}

const maxDay = (a: string, b: string): string => (a > b ? a : b);
const minDay = (a: string, b: string): string => (a < b ? a : b);
