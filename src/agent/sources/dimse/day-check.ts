import type { StudyRecord } from '../../../shared/study-record.js';
import { bucketsOf, dayOf } from '../../reconcile/day-buckets.js';
import { diffDay } from '../../reconcile/day-diff.js';
import type { ReceiverDay, ReconcileClient } from '../../reconcile/reconcile-client.js';
import { recordIncomplete, type DimseState } from './dimse-state.js';
import { daysNewestFirst } from './study-days.js';

/** What one read window changes: records to send, studies to confirm gone, the state once delivered. */
export interface DayVerdict {
  /** New or changed studies (no version yet). */
  send: StudyRecord[];
  /** Missing from a second reading in a row: asked for by UID alone before they become tombstones. */
  confirm: { iuid: string; day: string }[];
  /** Applied to the state once the records are acknowledged. */
  apply(state: DimseState, at: string): void;
}

/**
 * Compares the days of one read window with what the receiver holds (the reconcile protocol's
 * per-day counts and digests, then the day's studies where they differ). A study the receiver
 * holds on a day that no longer lists it is noted the first time, and only a second reading in a
 * row without it asks for it by UID; a day not read completely changes nothing of that.
 */
export class DayChecker {
  /** Every day of the centre, once a receiver answered a range with days outside it (it ignores ranges). */
  private all: Map<string, ReceiverDay> | undefined;

  constructor(private readonly client: ReconcileClient, private readonly signal: AbortSignal) {}

  async check(from: string, to: string, records: readonly StudyRecord[], incomplete: ReadonlyMap<string, string>, state: Readonly<DimseState>): Promise<DayVerdict> {
    const held = await this.receiverDays(from, to);
    const byDay = new Map<string, StudyRecord[]>();
    for (const r of records) {
      const list = byDay.get(dayOf(r));
      if (list) list.push(r);
      else byDay.set(dayOf(r), [r]);
    }
    const mine = bucketsOf(records);
    const send: StudyRecord[] = [];
    const confirm: DayVerdict['confirm'] = [];
    const noted: { iuid: string; day: string }[] = [];
    const settled: string[] = [];
    const absentByDay = groupAbsent(state);
    // An answer filed outside the window (an unusable StudyDate is "undated"): no day to compare, sent.
    send.push(...records.filter((r) => { const d = dayOf(r); return d < from || d > to; }));
    for (const day of daysNewestFirst(from, to)) {
      const a = mine.get(day);
      const b = held.get(day);
      if ((a?.count ?? 0) === (b?.count ?? 0) && (a?.digest ?? 0n) === (b?.digest ?? 0n)) {
        settled.push(...(absentByDay.get(day) ?? []));
        continue;
      }
      const diff = diffDay(byDay.get(day) ?? [], await this.client.studies(day, this.signal));
      send.push(...diff.missing, ...diff.different);
      const gone = new Set(diff.absent);
      settled.push(...(absentByDay.get(day) ?? []).filter((iuid) => !gone.has(iuid)));
      if (incomplete.has(day)) continue;
      for (const iuid of diff.absent) {
        if (state.absent[iuid]?.day === day) confirm.push({ iuid, day });
        else noted.push({ iuid, day });
      }
    }
    // Studies sent here: whatever day they were missing from, they are found.
    for (const r of send) settled.push(r.study_iuid);
    return {
      send, confirm,
      apply(s, at) {
        for (const iuid of settled) delete s.absent[iuid];
        for (const n of noted) s.absent[n.iuid] = { day: n.day, at };
        recordIncomplete(s, from, to, incomplete, at);
      },
    };
  }

  /** The receiver's holdings of these days: a small index range per window. */
  private async receiverDays(from: string, to: string): Promise<Map<string, ReceiverDay>> {
    if (this.all) return this.all;
    const days = await this.client.days(this.signal, { from, to });
    const held = new Map(days.map((d) => [d.day, d]));
    // An older receiver answers every day whatever the range: asked once for the whole pass then.
    if (days.some((d) => d.day < from || d.day > to)) this.all = held;
    return held;
  }
}

function groupAbsent(state: Readonly<DimseState>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [iuid, { day }] of Object.entries(state.absent)) {
    const list = out.get(day);
    if (list) list.push(iuid);
    else out.set(day, [iuid]);
  }
  return out;
}
