import { describe, expect, it } from 'vitest';
import { DimseError } from '../../../../src/agent/sources/dimse/dimse-errors.js';
import { matchingElements, type StudyKeys } from '../../../../src/agent/sources/dimse/study-keys.js';

function refusal(keys: unknown): DimseError {
  try {
    matchingElements(keys as StudyKeys);
  } catch (err) {
    if (err instanceof DimseError) return err;
    throw err;
  }
  throw new Error(`accepted ${JSON.stringify(keys)}`);
}

describe('matchingElements', () => {
  it('passes valid DICOM matching values through', () => {
    expect(matchingElements({
      StudyDate: '20240101-20240131', StudyTime: '080000-', PatientID: 'AB*', ModalitiesInStudy: 'CT\\MR', AccessionNumber: 'A?C',
      StudyInstanceUID: ['1.2.3', '1.2.4'], PatientBirthDate: '-19991231',
    })).toEqual({
      StudyDate: '20240101-20240131', StudyTime: '080000-', PatientID: 'AB*', ModalitiesInStudy: ['CT', 'MR'], AccessionNumber: 'A?C',
      StudyInstanceUID: ['1.2.3', '1.2.4'], PatientBirthDate: '-19991231',
    });
    expect(matchingElements({ StudyInstanceUID: '1.2.3\\1.2.4' })).toEqual({ StudyInstanceUID: ['1.2.3', '1.2.4'] });
    expect(matchingElements({ StudyDate: '20240101-' })).toEqual({ StudyDate: '20240101-' });
    expect(matchingElements({ StudyDate: '20240115', StudyInstanceUID: '1.2.3' })).toEqual({ StudyDate: '20240115', StudyInstanceUID: '1.2.3' });
    expect(matchingElements({ StudyDate: '', StudyInstanceUID: '', PatientName: undefined })).toEqual({ StudyDate: '', StudyInstanceUID: '' });
    expect(matchingElements({})).toEqual({});
  });

  it('refuses malformed dates, times, ranges', () => {
    for (const StudyDate of ['20230230', '2024-01-01', '2024011', '-', '20240131-20240101', '20240101-20240102-20240103', '2024*']) {
      expect(refusal({ StudyDate }).message, StudyDate).toMatch(/StudyDate must be/);
    }
    for (const StudyTime of ['2500', '1261', '-', '10-11-12', '10h']) expect(refusal({ StudyTime }).message).toMatch(/StudyTime must be/);
  });

  it('refuses bad UID lists', () => {
    for (const StudyInstanceUID of [[], ['1.2', 'abc'], ['01.2'], [`1.${'2'.repeat(70)}`], Array.from({ length: 501 }, (_, i) => `1.${i}`), [7], 12]) {
      expect(refusal({ StudyInstanceUID }).message).toMatch(/StudyInstanceUID must be/);
    }
  });

  it('refuses hostile text without quoting it: non-ASCII, NUL, backslash, control characters, oversize', () => {
    const values = ['MUÑOZ*', 'P1\0', 'P1\\P2', 'P1\nP2', 'x'.repeat(65), '\u202eRTL'];
    for (const PatientID of values) {
      const err = refusal({ PatientID });
      expect(err.dimseCode).toBe('INVALID_QUERY');
      expect(err.code).toBe('INVALID_INPUT');
      expect(err.message).toMatch(/PatientID must be/);
      expect(err.message).not.toContain(PatientID);
    }
    expect(refusal({ PatientName: 'MUÑOZ^JOSÉ' }).message).not.toMatch(/MUÑOZ|JOSÉ/);
    expect(refusal({ ModalitiesInStudy: 'ct' }).message).toMatch(/ModalitiesInStudy/);
    expect(refusal({ AccessionNumber: 'A'.repeat(17) }).message).toMatch(/at most 16/);
  });

  it('refuses unknown keys, non-string values and a non-object', () => {
    expect(refusal({ PatientAddress: 'x' }).message).toMatch(/"PatientAddress".*one of StudyInstanceUID/);
    expect(refusal({ ['__proto__x'.repeat(20)]: 'x' }).message.length).toBeLessThan(400);
    expect(refusal({ PatientID: 42 }).message).toMatch(/PatientID must be a string/);
    expect(refusal({ toString: 'x' }).message).toMatch(/one of/);
    for (const keys of [null, [], 'StudyDate=2024']) expect(refusal(keys).message).toMatch(/an object/);
  });
});
