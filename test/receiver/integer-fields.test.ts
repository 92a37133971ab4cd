import { describe, expect, it } from 'vitest';
import { validateLegacyRecord, validateRecord, withLegacyNulls } from '../../src/receiver/record-validation.js';

/**
 * Integer fields as JSON.parse hands them over: `-0` is a JSON number distinct from 0
 * (Object.is), which JSON.stringify writes as `0`, so these bodies are written by hand.
 * A version or key has no sign: -0 is refused like "-0"; a count with a sign is negative,
 * unknown (stored null, counted) whether it came as -0 or "-0".
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

  it('study_series: -0 and "-0" alike are a negative count: stored null (unknown), counted, on both protocols', () => {
    for (const n of ['-0', '"-0"']) {
      const v2 = validateRecord(JSON.parse(`{${base},"source_seq":1,"study_series":${n}}`), '001');
      const legacy = validateLegacyRecord(JSON.parse(`{${base},"study_series":${n}}`), Date.now());
      for (const v of [v2, legacy]) {
        expect(v.ok, n).toBe(true);
        if (v.ok) {
          expect(v.version.study_series, n).toBeNull();
          expect(v.normalised).toContain('study_series');
        }
      }
    }
  });

  it('study_series, study_instances: null, absent, "" (and legacy "None") are unknown: null, not counted; 0 stays 0', () => {
    for (const extra of [',"study_series":null,"study_instances":null', '', ',"study_series":"","study_instances":""']) {
      const v2 = validateRecord(JSON.parse(`{${base},"source_seq":1${extra}}`), '001');
      const legacy = validateLegacyRecord(JSON.parse(`{${base}${extra}}`), Date.now());
      for (const v of [v2, legacy]) {
        expect(v.ok && [v.version.study_series, v.version.study_instances], extra).toEqual([null, null]);
        expect(v.ok && v.normalised, extra).toEqual([]);
      }
    }
    const none = validateLegacyRecord(withLegacyNulls(JSON.parse(`{${base},"study_series":"None","study_instances":"None"}`)), Date.now());
    expect(none.ok && [none.version.study_series, none.version.study_instances]).toEqual([null, null]);
    const zero = validateRecord(JSON.parse(`{${base},"source_seq":1,"study_series":0,"study_instances":"0"}`), '001');
    expect(zero.ok && [zero.version.study_series, zero.version.study_instances]).toEqual([0, 0]);
  });

  it('study_pk: -0 is refused like "-0" (a key is never negative)', () => {
    for (const n of ['-0', '"-0"']) expect(validateRecord(JSON.parse(`{${base},"source_seq":1,"study_pk":${n}}`), '001').ok, n).toBe(false);
  });
});
