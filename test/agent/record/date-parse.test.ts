import { describe, expect, it } from 'vitest';
import { parseBirthdate, parseDateTime } from '../../../src/agent/record/date-parse.js';

describe('parseDateTime', () => {
  it('converts a DATETIME string to ISO local time', () => {
    expect(parseDateTime('2015-03-22 00:53:17')).toEqual({ value: '2015-03-22T00:53:17', invalid: false });
  });

  it('treats NULL as absent and zero or impossible dates as invalid', () => {
    expect(parseDateTime(null)).toEqual({ value: null, invalid: false });
    expect(parseDateTime('0000-00-00 00:00:00')).toEqual({ value: null, invalid: true });
    expect(parseDateTime('2015-02-30 10:00:00')).toEqual({ value: null, invalid: true });
    expect(parseDateTime('2015-01-01 24:00:00')).toEqual({ value: null, invalid: true });
    expect(parseDateTime('garbage')).toEqual({ value: null, invalid: true });
  });

  it('accepts a leap day only in a leap year', () => {
    expect(parseDateTime('2016-02-29 00:00:00').value).toBe('2016-02-29T00:00:00');
    expect(parseDateTime('1900-02-29 00:00:00').invalid).toBe(true);
    expect(parseDateTime('2000-02-29 00:00:00').invalid).toBe(false);
  });
});

describe('parseBirthdate', () => {
  it('reads YYYYMMDD and YYYY-MM-DD', () => {
    expect(parseBirthdate('19800115')).toEqual({ value: '1980-01-15', invalid: false });
    expect(parseBirthdate('1980-01-15')).toEqual({ value: '1980-01-15', invalid: false });
    expect(parseBirthdate(' 19800115 ')).toEqual({ value: '1980-01-15', invalid: false });
  });

  it('nulls and counts impossible or partial dates', () => {
    for (const bad of ['19800231', '1980', '00000000', '19801301', 'ABC', '1980/01/15']) {
      expect(parseBirthdate(bad), bad).toEqual({ value: null, invalid: true });
    }
  });

  it('treats NULL and empty as absent, not invalid', () => {
    expect(parseBirthdate(null)).toEqual({ value: null, invalid: false });
    expect(parseBirthdate('')).toEqual({ value: null, invalid: false });
  });
});
