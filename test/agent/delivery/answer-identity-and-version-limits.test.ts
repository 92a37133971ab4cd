import { describe, expect, it } from 'vitest';
import { parseAnswer } from '../../../src/agent/delivery/receiver-client.js';
import { checkAllocatedVersion, parseFloor } from '../../../src/agent/delivery/version-floor.js';
import { deliverChunk } from '../../../src/agent/pipeline/deliver-chunk.js';
import type { Delivery } from '../../../src/agent/delivery/delivery.js';
import { emptyConversionStats } from '../../../src/agent/record/conversion-stats.js';
import { tombstoneRecord } from '../../../src/agent/record/tombstone-record.js';
import { createLogger } from '../../../src/shared/logger.js';
import { DeliveryError, exitCodeFor } from '../../../src/shared/errors.js';
import { MAX_SOURCE_SEQ, MAX_VERSION_FLOOR } from '../../../src/shared/record-limits.js';

const URL = 'https://central.example.org/api/v2/centers/000/studies';

function code(fn: () => unknown): number {
  try {
    fn();
  } catch (err) {
    return exitCodeFor(err);
  }
  return 0;
}

describe('a rejected entry naming another study than its index is refused', () => {
  const answer = (entry: object) => JSON.stringify({ stored: 1, unchanged: 0, stale: 0, rejected: [entry] });
  it('an entry whose study_iuid is not that of records[index]: RECEIVER_PROTOCOL (exit 6), nothing acknowledged', () => {
    expect(code(() => parseAnswer(answer({ index: 0, study_iuid: '1.2.999.not.sent', reason: 'x' }), 2, URL, ['1.2.3', '1.2.4']))).toBe(6);
    expect(() => parseAnswer(answer({ index: 0, study_iuid: '1.2.999.not.sent', reason: 'x' }), 2, URL, ['1.2.3', '1.2.4'])).toThrow(/study_iuid is not that of record 0/);
  });
  it('the matching iuid, or none (null), is taken', () => {
    expect(parseAnswer(answer({ index: 1, study_iuid: '1.2.4', reason: 'x' }), 2, URL, ['1.2.3', '1.2.4']).rejected).toEqual([{ index: 1, reason: 'x' }]);
    expect(parseAnswer(answer({ index: 1, study_iuid: null, reason: 'x' }), 2, URL, ['1.2.3', '1.2.4']).rejected).toHaveLength(1);
  });
});

describe('versions at the documented maximum never poison the agent', () => {
  it('a floor leaving less than 2^31 versions of headroom is refused (exit 6), naming "Absurd versions"', () => {
    expect(code(() => parseFloor(JSON.stringify({ highest_source_seq: MAX_SOURCE_SEQ })))).toBe(6);
    expect(() => parseFloor(JSON.stringify({ highest_source_seq: MAX_VERSION_FLOOR + 1 }))).toThrow(DeliveryError);
    try {
      parseFloor(JSON.stringify({ highest_source_seq: MAX_SOURCE_SEQ }));
    } catch (err) {
      expect((err as DeliveryError).hint).toContain('Absurd versions');
    }
    expect(parseFloor(JSON.stringify({ highest_source_seq: MAX_VERSION_FLOOR }))).toBe(MAX_VERSION_FLOOR);
  });

  it('the agent refuses to allocate above MAX_SOURCE_SEQ from its own counter (exit 6)', () => {
    expect(checkAllocatedVersion(MAX_SOURCE_SEQ)).toBe(MAX_SOURCE_SEQ);
    expect(code(() => checkAllocatedVersion(MAX_SOURCE_SEQ + 1))).toBe(6);
  });

  it('a rejection about source_seq fails the chunk (exit 6): no dead letter, no acknowledgement', async () => {
    const records = [tombstoneRecord('000', '1.2.3', 1, MAX_SOURCE_SEQ + 1), tombstoneRecord('000', '1.2.4', 2, MAX_SOURCE_SEQ + 1)];
    const delivery: Delivery = {
      send: async (rs) => ({ stored: 0, unchanged: 0, stale: 0, skipped: 0, rejected: rs.map((record) => ({ record, reason: 'source_seq is required (an integer from 0 to 2^53-2^32)' })) }),
      close: async () => undefined,
    };
    let acked = false;
    let deadLetters = 0;
    const source = { writeDeadLetters: async (r: readonly unknown[]) => void (deadLetters += r.length) };
    const chunk = { records, read: 2, tombstones: 2, stats: emptyConversionStats(), position: 1, ack: async () => void (acked = true) };
    const err = await deliverChunk(source, delivery, chunk, new AbortController().signal, createLogger({ level: 'silent' })).catch((e: unknown) => e);
    expect(exitCodeFor(err)).toBe(6);
    expect(acked).toBe(false);
    expect(deadLetters).toBe(0);
  });
});
