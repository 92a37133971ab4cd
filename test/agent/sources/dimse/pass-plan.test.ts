import { describe, expect, it } from 'vitest';
import { emptyDimseState, type DimseState } from '../../../../src/agent/sources/dimse/dimse-state.js';
import { PassPlan, type PlanSettings, type PlannedWindow } from '../../../../src/agent/sources/dimse/pass-plan.js';

const SETTINGS: PlanSettings = { hotDays: 3, warmDays: 10, warmEveryMs: 3_600_000, coldEveryMs: 86_400_000, historyFrom: '2026-10-01', maxSpanDays: 4 };
const NOW = new Date('2026-12-01T12:00:00Z');
const TODAY = '2026-12-01';

function drain(plan: PassPlan, max = 1000): PlannedWindow[] {
  const out: PlannedWindow[] = [];
  for (let w = plan.next(); w && out.length < max; w = plan.next()) out.push(w);
  return out;
}

const spans = (ws: PlannedWindow[]): string[] => ws.map((w) => `${w.lane} ${w.window.from}..${w.window.to}`);

describe('the windows of a sync pass', () => {
  it('a first pass: the hot days one by one, then the warm sweep, then (initial done) the cold sweep, newest first', () => {
    const state = emptyDimseState();
    const windows = drain(new PassPlan(state, TODAY, SETTINGS, NOW, true));
    const list = spans(windows);
    expect(list.slice(0, 3)).toEqual(['hot 2026-12-01..2026-12-01', 'hot 2026-11-30..2026-11-30', 'hot 2026-11-29..2026-11-29']);
    // The warm sweep covers 2026-11-28 back to 2026-11-22 (10 days from today), the cold one the rest.
    const warm = windows.filter((w) => w.lane === 'warm');
    expect(warm[0]!.window.to).toBe('2026-11-28');
    expect(warm.at(-1)!.window.from).toBe('2026-11-22');
    const cold = windows.filter((w) => w.lane === 'cold');
    expect(cold[0]!.window.to).toBe('2026-11-21');
    expect(cold.at(-1)!.window.from).toBe('2026-10-01');
    // Every day from today back to the oldest is read exactly once.
    const days = new Set<string>();
    for (const w of windows) for (let d = new Date(`${w.window.from}T00:00:00Z`); d <= new Date(`${w.window.to}T00:00:00Z`); d.setUTCDate(d.getUTCDate() + 1)) {
      const day = d.toISOString().slice(0, 10);
      expect(days.has(day), day).toBe(false);
      days.add(day);
    }
    expect(days.size).toBe(62);
  });

  it('no cold sweep before the initial crawl is done; sweeps not due are skipped', () => {
    const state: DimseState = { ...emptyDimseState(), warm: { next_day: null, last_day: null, started_at: null, finished_at: new Date(NOW.getTime() - 60_000).toISOString() } };
    expect(spans(drain(new PassPlan(state, TODAY, SETTINGS, NOW, false))).map((s) => s.split(' ')[0])).toEqual(['hot', 'hot', 'hot']);
  });

  it('quiet stretches are asked together up to max_span_days, busy ones day by day', () => {
    const plan = new PassPlan(emptyDimseState(), TODAY, { ...SETTINGS, warmDays: 40 }, NOW, false);
    drain(plan, 3);
    const sizes: number[] = [];
    for (let i = 0; i < 4; i++) {
      const w = plan.next()!;
      sizes.push((Date.parse(w.window.to) - Date.parse(w.window.from)) / 86_400_000 + 1);
      plan.adapt(0, false, 0);
    }
    expect(sizes).toEqual([1, 2, 4, 4]);
    plan.adapt(0, true, 0);
    const after = plan.next()!;
    expect((Date.parse(after.window.to) - Date.parse(after.window.from)) / 86_400_000 + 1).toBe(2);
  });

  it('a sweep goes on where the last pass stopped (its place is applied only with its window)', () => {
    const state = emptyDimseState();
    const first = new PassPlan(state, TODAY, SETTINGS, NOW, false);
    const windows = drain(first);
    const warm = windows.filter((w) => w.lane === 'warm');
    warm[0]!.apply(state, NOW.toISOString());
    expect(state.warm.next_day).toBe('2026-11-27');
    const resumed = drain(new PassPlan(state, TODAY, SETTINGS, NOW, false)).filter((w) => w.lane === 'warm');
    expect(resumed[0]!.window.to).toBe('2026-11-27');
    for (const w of resumed) w.apply(state, NOW.toISOString());
    expect(state.warm).toMatchObject({ next_day: null, finished_at: NOW.toISOString() });
  });

  it('days left incomplete are read again, oldest attempt first, outside the hot days', () => {
    const state: DimseState = {
      ...emptyDimseState(),
      incomplete: { '2026-11-30': { why: 'x', at: '2026-11-30T00:00:00Z' }, '2026-05-01': { why: 'x', at: '2026-11-02T00:00:00Z' }, '2026-06-01': { why: 'x', at: '2026-11-01T00:00:00Z' } },
    };
    const lanes = spans(drain(new PassPlan(state, TODAY, { ...SETTINGS, warmDays: 3 }, NOW, false)));
    expect(lanes.filter((l) => l.startsWith('retry'))).toEqual(['retry 2026-06-01..2026-06-01', 'retry 2026-05-01..2026-05-01']);
  });
});
