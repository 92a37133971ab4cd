import { describe, expect, it } from 'vitest';
import { parseDateQuery, parseTimeQuery } from '../../../src/receiver/dicomweb/qido-dates.js';

describe('StudyDate (DA) query values', () => {
  it.each([
    ['20210301', { from: '2021-03-01', to: '2021-03-01' }],
    ['2021-03-01', { from: '2021-03-01', to: '2021-03-01' }],
    ['20210301-20210315', { from: '2021-03-01', to: '2021-03-15' }],
    ['2021-03-01-2021-03-15', { from: '2021-03-01', to: '2021-03-15' }],
    ['-20210315', { to: '2021-03-15' }],
    ['20210301-', { from: '2021-03-01' }],
    ['2021-03-01-', { from: '2021-03-01' }],
    ['-2021-03-15', { to: '2021-03-15' }],
    ['19700102-20240229', { from: '1970-01-02', to: '2024-02-29' }],
    ['20210301-20210301', { from: '2021-03-01', to: '2021-03-01' }],
  ])('%s', (value, bounds) => {
    expect(parseDateQuery('StudyDate', value)).toEqual(bounds);
  });

  it.each(['20219999', '99999999-', '-99999999', '20230230', '2023-02-30', '20230001', '2021030', '202103011', '2021/03/01', '-', '--', 'abc',
    '20210301-20210302-', '0000-00-00', '20210301 - 20210302', '１２３４５６７８'])('refuses %j, naming the key and not the value', (value) => {
    let message = '';
    try {
      parseDateQuery('StudyDate', value);
    } catch (err) {
      message = (err as Error).message;
      expect((err as { status?: number }).status).toBe(400);
    }
    expect(message).toMatch(/^StudyDate /);
    if (value.length > 2) expect(message).not.toContain(value);
  });

  it('refuses a range whose start is after its end', () => {
    expect(() => parseDateQuery('StudyDate', '20210302-20210301')).toThrow(/StudyDate: the range's start is after its end/);
  });
});

describe('StudyTime (TM) query values', () => {
  it.each([
    ['10', { timeFrom: '10:00:00', timeTo: '10:59:59' }],
    ['1030', { timeFrom: '10:30:00', timeTo: '10:30:59' }],
    ['103015', { timeFrom: '10:30:15', timeTo: '10:30:15' }],
    ['103015.123456', { timeFrom: '10:30:15', timeTo: '10:30:15' }],
    ['103015.1', { timeFrom: '10:30:15', timeTo: '10:30:15' }],
    ['08-10', { timeFrom: '08:00:00', timeTo: '10:59:59' }],
    ['0800-1030', { timeFrom: '08:00:00', timeTo: '10:30:59' }],
    ['-1030', { timeTo: '10:30:59' }],
    ['1030-', { timeFrom: '10:30:00' }],
    ['000000-235959.999999', { timeFrom: '00:00:00', timeTo: '23:59:59' }],
  ])('%s', (value, bounds) => {
    expect(parseTimeQuery('StudyTime', value)).toEqual(bounds);
  });

  it.each(['24', '1060', '103060', '1', '103', '10301', '103015.', '103015.1234567', '10:30', '-', 'x', '10-09', '2359-0000'])('refuses %j', (value) => {
    expect(() => parseTimeQuery('StudyTime', value)).toThrow(/^StudyTime/);
  });
});
