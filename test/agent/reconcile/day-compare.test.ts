import { describe, expect, it } from 'vitest';
import { bucketsOf, compareDays, dayOf, receivableDay } from '../../../src/agent/reconcile/day-buckets.js';
import { diffDay } from '../../../src/agent/reconcile/day-diff.js';
import { parseDays, parseStudies } from '../../../src/agent/reconcile/reconcile-client.js';
import { tombstoneRecord } from '../../../src/agent/record/tombstone-record.js';
import { contentHash, hashDigest } from '../../../src/shared/content-hash.js';
import { DeliveryError } from '../../../src/shared/errors.js';
import type { StudyRecord } from '../../../src/shared/study-record.js';

function rec(iuid: string, datetime: string | null, desc = 'CT'): StudyRecord {
  return { ...tombstoneRecord('000', iuid, 1, 7), deleted: false, study_datetime: datetime, study_description: desc };
}

describe('per-day buckets and their comparison', () => {
  it('files records under the date of study_datetime or "undated", XOR-ing digests and skipping tombstones', () => {
    const a = rec('1', '2024-03-01T10:00:00');
    const b = rec('2', '2024-03-01T23:59:59');
    const c = rec('3', null);
    expect([dayOf(a), dayOf(c)]).toEqual(['2024-03-01', 'undated']);
    const buckets = bucketsOf([a, b, c, tombstoneRecord('000', '4', 4, 7)]);
    expect([...buckets.keys()].sort()).toEqual(['2024-03-01', 'undated']);
    expect(buckets.get('2024-03-01')).toEqual({ count: 2, digest: hashDigest(contentHash(a)) ^ hashDigest(contentHash(b)) });
  });

  it('the digest ignores order and versions but not content', () => {
    const a = rec('1', '2024-03-01T10:00:00');
    const b = rec('2', '2024-03-01T11:00:00');
    expect(bucketsOf([a, b])).toEqual(bucketsOf([{ ...b, source_seq: 99 }, a]));
    expect(bucketsOf([a, b])).not.toEqual(bucketsOf([a, { ...b, study_description: 'MR' }]));
  });

  it('a day differs by count or digest, one-sided days included, sorted with "undated" last', () => {
    const source = bucketsOf([rec('1', '2024-03-01T10:00:00'), rec('2', '2024-03-02T10:00:00'), rec('3', null), rec('5', '2024-03-04T10:00:00')]);
    const same = source.get('2024-03-02')!;
    const receiver = [
      { day: '2024-03-02', ...same },
      { day: '2024-03-01', count: 1, digest: 12345n },
      { day: '2024-03-03', count: 1, digest: 1n },
      { day: '2024-03-04', count: 2, digest: source.get('2024-03-04')!.digest },
    ];
    expect(compareDays(source, receiver)).toEqual({ compared: 5, differing: ['2024-03-01', '2024-03-03', '2024-03-04', 'undated'] });
  });

  it('days before year 1000 are not asked of the receiver (it rejects such records and such days)', () => {
    expect(['0999-12-31', '0001-01-01', '1000-01-01', '2024-03-01', 'undated'].filter(receivableDay)).toEqual(['1000-01-01', '2024-03-01', 'undated']);
  });
});

describe('one day, study by study', () => {
  it('missing (absent or a tombstone), different (other hash), absent (live at the receiver only)', () => {
    const same = rec('same', '2024-03-01T10:00:00');
    const changed = rec('changed', '2024-03-01T10:00:00');
    const gone = rec('gone', '2024-03-01T10:00:00');
    const revived = rec('revived', '2024-03-01T10:00:00');
    const diff = diffDay([same, changed, gone, revived], [
      { study_iuid: 'same', source_seq: 1, content_hash: contentHash(same), deleted: false },
      { study_iuid: 'changed', source_seq: 1, content_hash: contentHash({ ...changed, study_series: 3 }), deleted: false },
      { study_iuid: 'revived', source_seq: 1, content_hash: null, deleted: true },
      { study_iuid: 'extra', source_seq: 1, content_hash: 'a'.repeat(32), deleted: false },
      { study_iuid: 'dead', source_seq: 1, content_hash: null, deleted: true },
    ]);
    expect(diff.missing.map((r) => r.study_iuid)).toEqual(['gone', 'revived']);
    expect(diff.different.map((r) => r.study_iuid)).toEqual(['changed']);
    expect(diff.absent).toEqual(['extra']);
  });
});

describe('reconcile answers off-contract are refused (RECEIVER_PROTOCOL)', () => {
  it('accepts the documented shapes, digests beyond 2^53 included', () => {
    expect(parseDays({ items: [{ day: 'undated', count: 2, digest: '1152921504606846975' }] }))
      .toEqual([{ day: 'undated', count: 2, digest: 1152921504606846975n }]);
    expect(parseStudies({ items: [{ study_iuid: '1.2', source_seq: '17', content_hash: null, deleted: 1 }] }))
      .toEqual([{ study_iuid: '1.2', source_seq: 17, content_hash: null, deleted: true }]);
  });

  it.each([
    null, {}, { items: {} }, { items: [{ day: '2024-3-1', count: 1, digest: '1' }] }, { items: [{ day: 'undated', count: -1, digest: '1' }] },
    { items: [{ day: 'undated', count: 1, digest: '0x1f' }] },
  ])('days %j', (body) => {
    expect(() => parseDays(body)).toThrow(DeliveryError);
  });

  it.each([
    { items: [{ source_seq: 1 }] }, { items: [{ study_iuid: '1', source_seq: 'x' }] }, { items: [{ study_iuid: '1', source_seq: 1, content_hash: 5 }] },
  ])('studies %j', (body) => {
    expect(() => parseStudies(body)).toThrow(DeliveryError);
  });
});
