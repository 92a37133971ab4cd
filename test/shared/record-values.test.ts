import { describe, expect, it } from 'vitest';
import { cleanText, MAX_COUNT, parseBirthdate, parseCount, parseDateTime, parseIntegerText } from '../../src/shared/record-values.js';

describe('parseDateTime', () => {
  it('converts a DATETIME string (driver or contract form) to ISO local time', () => {
    expect(parseDateTime('2015-03-22 00:53:17')).toEqual({ value: '2015-03-22T00:53:17', invalid: false });
    expect(parseDateTime('2015-03-22T00:53:17.250')).toEqual({ value: '2015-03-22T00:53:17', invalid: false });
    expect(parseDateTime('2015-03-22')).toEqual({ value: '2015-03-22T00:00:00', invalid: false });
  });

  it('reads DICOM DA/DT (YYYYMMDD, YYYYMMDDHHMMSS) as a birth date is read, impossible ones invalid', () => {
    expect(parseDateTime('20230101')).toEqual({ value: '2023-01-01T00:00:00', invalid: false });
    expect(parseDateTime('20230102101112.5')).toEqual({ value: '2023-01-02T10:11:12', invalid: false });
    for (const bad of ['20230230', '00000000', '2023010110', '20230101250000']) expect(parseDateTime(bad), bad).toEqual({ value: null, invalid: true });
  });

  it('treats NULL, blank and the legacy client\'s "None" as absent; zero, impossible or unreadable dates as invalid', () => {
    for (const absent of [null, undefined, '', '   ', 'None']) expect(parseDateTime(absent)).toEqual({ value: null, invalid: false });
    for (const bad of ['0000-00-00 00:00:00', '2015-02-30 10:00:00', '2015-01-01 24:00:00', 'garbage', '2015-03-22 10:00', '2015-00-10']) {
      expect(parseDateTime(bad), bad).toEqual({ value: null, invalid: true });
    }
  });

  it('accepts only the years the receiver\'s DATETIME column holds (1000-9999)', () => {
    expect(parseDateTime('0001-01-01 00:00:00').invalid).toBe(true);
    expect(parseDateTime('0999-12-31 23:59:59').invalid).toBe(true);
    expect(parseDateTime('1000-01-01 00:00:00').value).toBe('1000-01-01T00:00:00');
    expect(parseDateTime('9999-12-31 23:59:59').value).toBe('9999-12-31T23:59:59');
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
    for (const bad of ['19800231', '1980', '00000000', '0000-00-00', '19801301', 'ABC', '1980/01/15', '09000101']) {
      expect(parseBirthdate(bad), bad).toEqual({ value: null, invalid: true });
    }
  });

  it('treats NULL, empty and "None" as absent, not invalid', () => {
    expect(parseBirthdate(null)).toEqual({ value: null, invalid: false });
    expect(parseBirthdate('')).toEqual({ value: null, invalid: false });
    expect(parseBirthdate('None')).toEqual({ value: null, invalid: false });
  });
});

describe('parseCount', () => {
  it('keeps 0 … 2^31-1, nulls and counts a negative, overflowing or fractional count', () => {
    expect(parseCount(0)).toEqual({ value: 0, invalid: false });
    expect(parseCount(MAX_COUNT)).toEqual({ value: 2 ** 31 - 1, invalid: false });
    expect(parseCount(null)).toEqual({ value: null, invalid: false });
    for (const bad of [-1, 2 ** 31, 1e308, 1.5, Number.NaN, Infinity]) expect(parseCount(bad), String(bad)).toEqual({ value: null, invalid: true });
  });
});

describe('cleanText', () => {
  it('drops NULs, replaces unpaired surrogates, keeps pairs, blank → null', () => {
    expect(cleanText('AB\0C')).toBe('ABC');
    expect(cleanText('A\ud800B\udc00C')).toBe('A\ufffdB\ufffdC');
    expect(cleanText('😀')).toBe('😀');
    expect(cleanText(' \0 ')).toBeNull();
    expect(cleanText(null)).toBeNull();
    expect(cleanText(' keeps spaces ')).toBe(' keeps spaces ');
  });
});

describe('parseIntegerText', () => {
  it('reads ASCII digits only (leading zeros allowed)', () => {
    expect(parseIntegerText('2452')).toBe(2452);
    expect(parseIntegerText('007')).toBe(7);
    expect(parseIntegerText('0')).toBe(0);
  });

  it('refuses what Number() would read: blanks of any kind, signs, hex, exponents, fractions, other digits', () => {
    for (const bad of ['', ' 5', '5 ', '5\u00a0', '\u00a05', '\t5', '5\n', '\u20285', '+5', '-5', '-0', '0x10', '0b1', '1e2', '5.0', '5.', '٥', '５', 'Infinity']) {
      expect(parseIntegerText(bad), JSON.stringify(bad)).toBeNull();
    }
  });

  it('with allowMinus, one leading minus names a negative number (-0 included); nothing else more', () => {
    expect(parseIntegerText('-3', true)).toBe(-3);
    expect(Object.is(parseIntegerText('-0', true), -0)).toBe(true);
    for (const bad of ['--3', '- 3', '+3', ' -3', '-3 ', '-']) expect(parseIntegerText(bad, true), JSON.stringify(bad)).toBeNull();
  });
});

describe('parseCount and negative zero', () => {
  it('-0 is a negative count (unknown, counted), as "-0" and -3 are', () => {
    expect(parseCount(-0)).toEqual({ value: null, invalid: true });
    expect(parseCount(parseIntegerText('-0', true))).toEqual({ value: null, invalid: true });
    expect(parseCount(0)).toEqual({ value: 0, invalid: false });
  });
});
