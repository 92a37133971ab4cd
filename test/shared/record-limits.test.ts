import { describe, expect, it } from 'vitest';
import { exceedsChars, fitModalities, fitRecordToColumns, truncateChars } from '../../src/shared/record-limits.js';
import type { StudyRecord } from '../../src/shared/study-record.js';

describe('character limits (code points, as utf8mb4 columns count them)', () => {
  it('counts code points, not UTF-16 units or bytes', () => {
    expect(exceedsChars('😀'.repeat(255), 255)).toBe(false);
    expect(exceedsChars('😀'.repeat(256), 255)).toBe(true);
    expect(exceedsChars('é'.repeat(255), 255)).toBe(false);
  });

  it('truncates without splitting a surrogate pair', () => {
    expect(truncateChars('😀'.repeat(300), 255)).toBe('😀'.repeat(255));
    expect(truncateChars('abc', 2)).toBe('ab');
    expect(truncateChars('abc', 3)).toBe('abc');
  });
});

describe('fitModalities', () => {
  it('keeps 1-16 printable ASCII entries while the joined list fits 255 characters', () => {
    const many = Array.from({ length: 100 }, (_, i) => `M${String(i).padStart(2, '0')}`);
    const fit = fitModalities(many);
    expect(fit.changed).toBe(true);
    expect(fit.modalities.join('\\').length).toBeLessThanOrEqual(255);
    expect(fit.modalities).toEqual(many.slice(0, 64));
    expect(fitModalities(['CT', 'ÇT', 'X'.repeat(17)])).toEqual({ modalities: ['CT'], changed: true });
    expect(fitModalities(['CT', 'SR'])).toEqual({ modalities: ['CT', 'SR'], changed: false });
  });
});

describe('fitRecordToColumns (the agent, before sending)', () => {
  const base = (over: Partial<StudyRecord>): StudyRecord => ({
    center: '000', study_iuid: '1.2', study_pk: 1, patient_pk: 1, patient_id: 'P', patient_id_issuer: null, patient_name: 'A^B',
    patient_birthdate: null, patient_sex: 'M', study_datetime: null, study_description: 'D', study_modality: 'CT', modalities: ['CT'],
    study_series: 1, study_instances: 1, accession_no: null, study_id: null, referring_physician: null, source_seq: 1, deleted: false, ...over,
  });

  it('truncates free text and fits modalities; leaves identifiers for the receiver to refuse', () => {
    const r = base({ patient_name: 'ß'.repeat(300), patient_sex: 'x'.repeat(20), patient_id: 'ß'.repeat(200), accession_no: 'A'.repeat(100) });
    expect(fitRecordToColumns(r).sort()).toEqual(['patient_name', 'patient_sex']);
    expect(r.patient_name).toBe('ß'.repeat(255));
    expect(r.patient_sex).toBe('x'.repeat(16));
    expect(r.patient_id).toBe('ß'.repeat(200));
    expect(r.accession_no).toHaveLength(100);
    expect(fitRecordToColumns(base({}))).toEqual([]);
  });
});
