import { describe, expect, it } from 'vitest';
import { blankStudyRecord } from '../../../../src/shared/study-record.js';
import { emptyDimseState } from '../../../../src/agent/sources/dimse/dimse-state.js';
import { OutcomeQueue, type Outcome } from '../../../../src/agent/sources/dimse/outcome-queue.js';

function outcome(n: number, tag: string, applied: string[]): Outcome {
  return {
    records: Array.from({ length: n }, (_, i) => blankStudyRecord('000', `${tag}.${i}`)), gone: [], days: 1, read: n,
    apply: () => applied.push(tag),
  };
}

describe('cutting read windows into chunks', () => {
  it('whole windows share a chunk; a window bigger than a chunk moves its place only with its last part', () => {
    const applied: string[] = [];
    const q = new OutcomeQueue();
    q.push(outcome(2, 'a', applied));
    q.push(outcome(5, 'b', applied));
    const first = q.cut(4);
    expect(first.records.map((r) => r.study_iuid)).toEqual(['a.0', 'a.1', 'b.0', 'b.1']);
    first.applies.forEach((f) => f(emptyDimseState(), ''));
    expect(applied).toEqual(['a']);
    const second = q.cut(4);
    expect(second.records.map((r) => r.study_iuid)).toEqual(['b.2', 'b.3', 'b.4']);
    second.applies.forEach((f) => f(emptyDimseState(), ''));
    expect(applied).toEqual(['a', 'b']);
    expect(q.empty).toBe(true);
  });

  it('a window with nothing to send still moves its place, with the next chunk', () => {
    const applied: string[] = [];
    const q = new OutcomeQueue();
    q.push(outcome(0, 'quiet', applied));
    const cut = q.cut(10);
    expect(cut.records).toEqual([]);
    expect(cut.applies).toHaveLength(1);
  });
});
