import { describe, expect, it } from 'vitest';
import { validateLegacyRecord, validateRecord } from '../../src/receiver/record-validation.js';

/**
 * Integer fields as JSON.parse hands them over: `-0` is a JSON number distinct from 0
 * (Object.is), which JSON.stringify writes as `0`, so these bodies are written by hand.
 * A version or key has no sign: -0 is refused like "-0"; a count with a sign is negative,
 * unknown (stored 0, counted) whether it came as -0 or "-0".
 */
const base = '"study_iuid":"1.2.3","center":"001","patient_id":"12345678-5","study_datetime":"2020-01-02T03:04:05","modalities":["CT"]';

describe('integer fields given as -0 (JSON) and as text', () => {
  it('source_seq: -0 is refused like "-0"; 0 and "0" are version 0', () => {
    for (const seq of ['-0', '"-0"', '-0.0']) {
      const v = validateRecord(JSON.parse(`{${base},"source_seq":${seq}}`), '001');
      expect(v.ok, seq).toBe(false);
      if (!v.ok) expect(v.reason).toMatch(/source_seq/);
    }
    for (const seq of ['0', '"0"']) {
      const v = validateRecord(JSON.parse(`{${base},"source_seq":${seq}}`), '001');
      expect(v.ok && v.version.source_seq, seq).toBe(0);
    }
  });

  it('study_series: -0 and "-0" alike are a negative count: stored 0, counted, on both protocols', () => {
    for (const n of ['-0', '"-0"']) {
      const v2 = validateRecord(JSON.parse(`{${base},"source_seq":1,"study_series":${n}}`), '001');
      const legacy = validateLegacyRecord(JSON.parse(`{${base},"study_series":${n}}`), Date.now());
      for (const v of [v2, legacy]) {
        expect(v.ok, n).toBe(true);
        if (v.ok) {
          expect(Object.is(v.version.study_series, 0), n).toBe(true);
          expect(v.normalised).toContain('study_series');
        }
      }
    }
  });

  it('study_pk: -0 is refused like "-0" (a key is never negative)', () => {
    for (const n of ['-0', '"-0"']) expect(validateRecord(JSON.parse(`{${base},"source_seq":1,"study_pk":${n}}`), '001').ok, n).toBe(false);
  });
});
