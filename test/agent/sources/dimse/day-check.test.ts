import { describe, expect, it } from 'vitest';
import { contentHash, hashDigest } from '../../../../src/shared/content-hash.js';
import { blankStudyRecord, type StudyRecord } from '../../../../src/shared/study-record.js';
import type { ReceiverDay, ReceiverStudy, ReconcileClient } from '../../../../src/agent/reconcile/reconcile-client.js';
import { DayChecker } from '../../../../src/agent/sources/dimse/day-check.js';
import { emptyDimseState } from '../../../../src/agent/sources/dimse/dimse-state.js';

const study = (iuid: string, day: string, name = 'A^B'): StudyRecord => ({ ...blankStudyRecord('000', iuid), study_datetime: `${day}T10:00:00`, patient_name: name });

/** A receiver holding `held` (what the receiver's reconcile endpoints would answer), counting its day reads. */
function receiverOf(held: StudyRecord[], ignoresRanges = false): ReconcileClient & { dayReads: number; studyReads: string[] } {
  const byDay = (records: StudyRecord[]): ReceiverDay[] => {
    const days = new Map<string, ReceiverDay>();
    for (const r of records) {
      const day = r.study_datetime!.slice(0, 10);
      const d = days.get(day) ?? { day, count: 0, digest: 0n };
      d.count += 1;
      d.digest ^= hashDigest(contentHash(r));
      days.set(day, d);
    }
    return [...days.values()];
  };
  const client = {
    dayReads: 0,
    studyReads: [] as string[],
    async days(_signal: AbortSignal, range?: { from: string; to: string }) {
      client.dayReads += 1;
      const all = byDay(held);
      return ignoresRanges || !range ? all : all.filter((d) => d.day >= range.from && d.day <= range.to);
    },
    async studies(day: string): Promise<ReceiverStudy[]> {
      client.studyReads.push(day);
      return held.filter((r) => r.study_datetime!.startsWith(day)).map((r) => ({ study_iuid: r.study_iuid, source_seq: 1, content_hash: contentHash(r), deleted: false }));
    },
    async close() {},
  };
  return client;
}

const signal = new AbortController().signal;

describe("comparing a read window with the receiver's days", () => {
  it('an unchanged day costs one day read and sends nothing', async () => {
    const records = [study('1.1', '2026-11-30'), study('1.2', '2026-11-30')];
    const rx = receiverOf(records);
    const v = await new DayChecker(rx, signal).check('2026-11-30', '2026-11-30', records, new Map(), emptyDimseState());
    expect(v.send).toEqual([]);
    expect(rx.studyReads).toEqual([]);
  });

  it('a new and a changed study are sent; one missing is noted the first time, confirmed the second', async () => {
    const held = [study('1.1', '2026-11-30'), study('1.2', '2026-11-30'), study('1.3', '2026-11-30')];
    const now = [study('1.1', '2026-11-30', 'C^D'), study('1.4', '2026-11-30'), held[2]!];
    const state = emptyDimseState();
    const first = await new DayChecker(receiverOf(held), signal).check('2026-11-30', '2026-11-30', now, new Map(), state);
    expect(first.send.map((r) => r.study_iuid).sort()).toEqual(['1.1', '1.4']);
    expect(first.confirm).toEqual([]);
    first.apply(state, 't1');
    expect(state.absent).toEqual({ '1.2': { day: '2026-11-30', at: 't1' } });
    const second = await new DayChecker(receiverOf(held), signal).check('2026-11-30', '2026-11-30', now, new Map(), state);
    expect(second.confirm).toEqual([{ iuid: '1.2', day: '2026-11-30' }]);
  });

  it('a day not read completely notes nothing missing, and is recorded as incomplete', async () => {
    const held = [study('1.1', '2026-11-30'), study('1.2', '2026-11-30')];
    const state = emptyDimseState();
    const v = await new DayChecker(receiverOf(held), signal).check('2026-11-30', '2026-11-30', [held[0]!], new Map([['2026-11-30', 'cut']]), state);
    v.apply(state, 't');
    expect(state.absent).toEqual({});
    expect(state.incomplete).toEqual({ '2026-11-30': { why: 'cut', at: 't' } });
  });

  it('a study that shows again is no longer missing', async () => {
    const held = [study('1.1', '2026-11-30')];
    const state = { ...emptyDimseState(), absent: { '1.1': { day: '2026-11-30', at: 't0' } } };
    const v = await new DayChecker(receiverOf(held), signal).check('2026-11-30', '2026-11-30', held, new Map(), state);
    v.apply(state, 't');
    expect(state.absent).toEqual({});
  });

  it('a receiver that ignores ranges (older) is asked for its days once per pass', async () => {
    const held = [study('1.1', '2026-11-30'), study('1.2', '2020-01-01')];
    const rx = receiverOf(held, true);
    const checker = new DayChecker(rx, signal);
    const v1 = await checker.check('2026-11-30', '2026-11-30', [held[0]!], new Map(), emptyDimseState());
    const v2 = await checker.check('2020-01-01', '2020-01-01', [held[1]!], new Map(), emptyDimseState());
    expect([v1.send, v2.send]).toEqual([[], []]);
    expect(rx.dayReads).toBe(1);
  });

  it('an answer filed outside the window (an unusable StudyDate) is sent, not compared', async () => {
    const odd = { ...blankStudyRecord('000', '9.9'), study_datetime: null };
    const v = await new DayChecker(receiverOf([]), signal).check('2026-11-30', '2026-11-30', [odd], new Map(), emptyDimseState());
    expect(v.send.map((r) => r.study_iuid)).toEqual(['9.9']);
  });
});
