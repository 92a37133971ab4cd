import { describe, expect, it } from 'vitest';
import { alternatives, dateBounds, intersectBounds, token, typedToken } from '../../../src/receiver/fhir/fhir-values.js';
import { FhirError } from '../../../src/receiver/fhir/operation-outcome.js';

function refusal(fn: () => unknown): FhirError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FhirError);
    return err as FhirError;
  }
  throw new Error('expected a refusal');
}

describe('token syntax', () => {
  it('splits alternatives on unescaped commas only', () => {
    expect(alternatives('a,b')).toEqual(['a', 'b']);
    expect(alternatives('a\\,b,c')).toEqual(['a\\,b', 'c']);
    expect(alternatives('single')).toEqual(['single']);
    expect(alternatives('')).toEqual(['']);
  });

  it('reads system|code, |code and code, with escapes', () => {
    expect(token('identifier', 'urn:dicom:uid|urn:oid:1.2.3')).toEqual({ system: 'urn:dicom:uid', code: 'urn:oid:1.2.3' });
    expect(token('identifier', '|A1')).toEqual({ system: '', code: 'A1' });
    expect(token('identifier', 'A1')).toEqual({ system: null, code: 'A1' });
    expect(token('identifier', 'a\\|b|c\\,d\\\\')).toEqual({ system: 'a|b', code: 'c,d\\' });
    // only the first unescaped | separates: the rest belongs to the code
    expect(token('identifier', 's|x|y')).toEqual({ system: 's', code: 'x|y' });
  });

  it('refuses an empty code and over-long values, naming the parameter, never quoting the value', () => {
    for (const v of ['', 'sys|', '  ', 'sys|  ']) {
      const e = refusal(() => token('identifier', v));
      expect(e.status).toBe(400);
      expect(e.issue).toBe('invalid');
      expect(e.message).toContain('"identifier"');
    }
    const long = 'Z'.repeat(8192);
    const e = refusal(() => token('patient:identifier', long));
    expect(e.message).toContain('"patient:identifier"');
    expect(e.message).not.toContain('ZZZZ');
    expect(() => token('x', 'Y'.repeat(255))).not.toThrow();
    expect(() => token('x', 'Y'.repeat(256))).toThrow(FhirError);
    expect(() => token('x', `${'s'.repeat(1025)}|v`)).toThrow(FhirError);
  });

  it('reads the three parts of :of-type', () => {
    expect(typedToken('identifier:of-type', 'http://terminology.hl7.org/CodeSystem/v2-0203|ACSN|A\\|1')).toEqual({
      system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'ACSN', value: 'A|1',
    });
    for (const v of ['ACSN|A1', 'a|b|c|d', '|ACSN|A1', 'x|ACSN|', 'A1']) {
      expect(refusal(() => typedToken('identifier:of-type', v)).message).toContain('type-system|type-code|value');
    }
  });
});

describe('started (date) values', () => {
  it('eq (default) covers the days of its precision', () => {
    expect(dateBounds('started', '2021')).toEqual({ from: '2021-01-01', to: '2021-12-31' });
    expect(dateBounds('started', 'eq2021-02')).toEqual({ from: '2021-02-01', to: '2021-02-28' });
    expect(dateBounds('started', '2024-02')).toEqual({ from: '2024-02-01', to: '2024-02-29' });
    expect(dateBounds('started', '2021-03-01')).toEqual({ from: '2021-03-01', to: '2021-03-01' });
    expect(dateBounds('started', '2021-03-01T10:00:00Z')).toEqual({ from: '2021-03-01', to: '2021-03-01' });
    expect(dateBounds('started', '2021-03-01T23:30-04:00')).toEqual({ from: '2021-03-01', to: '2021-03-01' });
    expect(dateBounds('started', '2021-03-01T10:00:00.123+14:00')).toEqual({ from: '2021-03-01', to: '2021-03-01' });
  });

  it('ge, le, gt, lt', () => {
    expect(dateBounds('started', 'ge2021-03')).toEqual({ from: '2021-03-01' });
    expect(dateBounds('started', 'le2021-03')).toEqual({ to: '2021-03-31' });
    expect(dateBounds('started', 'gt2021-03')).toEqual({ from: '2021-04-01' });
    expect(dateBounds('started', 'lt2021-03')).toEqual({ to: '2021-02-28' });
    expect(dateBounds('started', 'gt2021-12-31')).toEqual({ from: '2022-01-01' });
    expect(dateBounds('started', 'lt2021-01-01')).toEqual({ to: '2020-12-31' });
    expect(dateBounds('started', 'gt2020')).toEqual({ from: '2021-01-01' });
    // with a time the open range shares the value's day, which a day-precision study date may lie in
    expect(dateBounds('started', 'gt2021-03-01T10:00:00Z')).toEqual({ from: '2021-03-01' });
    expect(dateBounds('started', 'lt2021-03-01T10:00:00Z')).toEqual({ to: '2021-03-01' });
    expect(dateBounds('started', 'ge2021-03-01T10:00')).toEqual({ from: '2021-03-01' });
  });

  it('reads a zone whose + arrived as a space (unencoded in the URL)', () => {
    expect(dateBounds('started', 'ge2021-03-01T10:00:00 03:00')).toEqual({ from: '2021-03-01' });
  });

  it('beyond the calendar nothing can match (not an error)', () => {
    expect(dateBounds('started', 'gt9999-12-31')).toEqual({ impossible: true });
    expect(dateBounds('started', 'gt9999')).toEqual({ impossible: true });
    expect(dateBounds('started', 'lt0001-01-01')).toEqual({ impossible: true });
    expect(dateBounds('started', 'lt0001')).toEqual({ impossible: true });
    expect(dateBounds('started', 'le0001-01-01')).toEqual({ to: '0001-01-01' });
  });

  it('refuses impossible or malformed dates with 400 invalid, never quoting them', () => {
    const bad = ['2021-99-99', '2021-02-30', '2021-13', '2021-00', '0000', 'ge99999', '99999', '2021-3-1', '21-03-01', '2021-03-01T25:00',
      '2021-03-01T10:60', '2021-03-01T10:00:61', '2021-03-01T10:00:00+15:00', '2021-03-01T10:00:00+03:75', '2021-03-01T10', 'ge', '', 'eq ',
      'today', '2021-03-01 10:00', 'xx2021', '2021-03-01T10:00:00ZZ', '２０２１'];
    for (const v of bad) {
      const e = refusal(() => dateBounds('started', v));
      expect(e.status, v).toBe(400);
      expect(e.issue, v).toBe('invalid');
      expect(e.message).toContain('"started"');
      if (v.length > 3) expect(e.message).not.toContain(v);
    }
  });

  it('refuses the prefixes it does not support with 400 not-supported', () => {
    for (const p of ['ne', 'sa', 'eb', 'ap']) {
      const e = refusal(() => dateBounds('started', `${p}2021`));
      expect(e.issue).toBe('not-supported');
      expect(e.message).toContain(`"${p}"`);
    }
  });

  it('intersects repeated bounds; an empty intersection is impossible', () => {
    expect(intersectBounds({ from: '2021-01-01' }, { to: '2021-12-31' })).toEqual({ from: '2021-01-01', to: '2021-12-31' });
    expect(intersectBounds({ from: '2021-01-01', to: '2021-12-31' }, { from: '2021-06-01', to: '2022-01-01' })).toEqual({ from: '2021-06-01', to: '2021-12-31' });
    expect(intersectBounds({ from: '2022-01-01' }, { to: '2021-12-31' })).toEqual({ impossible: true });
    expect(intersectBounds({}, {})).toEqual({});
    expect(intersectBounds({ impossible: true }, { from: '2021-01-01' })).toEqual({ impossible: true });
  });
});
