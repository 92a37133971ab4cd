import { describe, expect, it } from 'vitest';
import { emptyConversionStats } from '../../../../src/agent/record/conversion-stats.js';
import { tombstoneRecord } from '../../../../src/agent/record/tombstone-record.js';
import { mapStudyRow, type StudyRow } from '../../../../src/agent/sources/dcm4chee/study-mapper.js';
import { STUDY_RECORD_FIELDS } from '../../../../src/shared/study-record.js';

const b = (s: string, enc: BufferEncoding = 'utf8') => Buffer.from(s, enc);

function row(over: Partial<StudyRow> = {}): StudyRow {
  return {
    study_pk: 42, study_iuid: b('1.2.3.4'), study_id: b('S1'), study_datetime: '2015-03-22 00:53:17',
    accession_no: b('A100'), ref_physician: b('DR^WHO'), study_desc: b('TAC DE CRÁNEO', 'latin1'),
    mods_in_study: b('CT\\SR'), num_series: 2, num_instances: '2452', patient_pk: '7',
    pat_id: b('12.345.678-5'), pat_id_issuer: null, pat_name: b('MUÑOZ^JOSÉ'), pat_birthdate: b('19800115'), pat_sex: b('M'),
    ...over,
  };
}

describe('mapStudyRow', () => {
  it('produces exactly the contract fields with numbers as numbers', () => {
    const stats = emptyConversionStats();
    const r = mapStudyRow(row(), '000', 99, stats)!;
    expect(Object.keys(r).sort()).toEqual([...STUDY_RECORD_FIELDS].sort());
    expect(r).toEqual({
      center: '000', study_iuid: '1.2.3.4', study_pk: 42, patient_pk: 7, patient_id: '12.345.678-5',
      patient_id_issuer: null, patient_name: 'MUÑOZ^JOSÉ', patient_birthdate: '1980-01-15', patient_sex: 'M',
      study_datetime: '2015-03-22T00:53:17', study_description: 'TAC DE CRÁNEO', study_modality: 'CT\\SR',
      modalities: ['CT', 'SR'], study_series: 2, study_instances: 2452, accession_no: 'A100', study_id: 'S1',
      referring_physician: 'DR^WHO', source_seq: 99, deleted: false,
    });
    expect(stats).toEqual({ invalid_study_datetime: 0, invalid_birthdate: 0, invalid_count: 0, truncated: 0, missing_iuid: 0 });
  });

  it('nulls invalid dates and counts them per field', () => {
    const stats = emptyConversionStats();
    const r = mapStudyRow(row({ study_datetime: '0000-00-00 00:00:00', pat_birthdate: b('19800231') }), '000', 1, stats)!;
    expect(r.study_datetime).toBeNull();
    expect(r.patient_birthdate).toBeNull();
    expect(stats).toMatchObject({ invalid_study_datetime: 1, invalid_birthdate: 1 });
  });

  it('sends a negative or overflowing count as unknown (null) and counts it', () => {
    const stats = emptyConversionStats();
    const r = mapStudyRow(row({ num_series: -1, num_instances: '3000000000' }), '000', 1, stats)!;
    expect([r.study_series, r.study_instances]).toEqual([null, null]);
    expect(stats.invalid_count).toBe(2);
  });

  it('sends a NULL count column as unknown (null), not 0, and does not count it as invalid', () => {
    const stats = emptyConversionStats();
    const r = mapStudyRow(row({ num_series: null, num_instances: null }), '000', 1, stats)!;
    expect([r.study_series, r.study_instances]).toEqual([null, null]);
    expect(stats.invalid_count).toBe(0);
    const zero = mapStudyRow(row({ num_series: 0, num_instances: '0' }), '000', 1, stats)!;
    expect([zero.study_series, zero.study_instances]).toEqual([0, 0]);
  });

  it('cuts free text to the receiver\'s columns (latin1 ß stays one character) and counts the record once', () => {
    const stats = emptyConversionStats();
    const r = mapStudyRow(row({ pat_name: b('ß'.repeat(250), 'latin1'), study_desc: b('D'.repeat(250)), pat_sex: b('MALE-ISH-VALUE-TOO-LONG') }), '000', 1, stats)!;
    expect(r.patient_name).toBe('ß'.repeat(250));
    expect(r.patient_sex).toBe('MALE-ISH-VALUE-T');
    expect(stats.truncated).toBe(1);
  });

  it('leaves an identifier that grows past its column when upper-cased for the receiver to refuse', () => {
    const r = mapStudyRow(row({ pat_id: b('ß'.repeat(200), 'latin1') }), '000', 1, emptyConversionStats())!;
    expect(r.patient_id).toBe('ß'.repeat(200));
  });

  it('maps a study without patient (dangling patient_fk) with null patient fields', () => {
    const r = mapStudyRow(row({ patient_pk: null, pat_id: null, pat_name: null, pat_birthdate: null, pat_sex: null }), '000', 1, emptyConversionStats())!;
    expect(r.patient_pk).toBeNull();
    expect(r.patient_name).toBeNull();
  });

  it('skips and counts a row without study_iuid', () => {
    const stats = emptyConversionStats();
    expect(mapStudyRow(row({ study_iuid: b('  ') }), '000', 1, stats)).toBeNull();
    expect(stats.missing_iuid).toBe(1);
  });
});

describe('tombstoneRecord', () => {
  it('is a deleted record carrying only identity and version', () => {
    const t = tombstoneRecord('000', '1.2.3', 5, 10);
    expect(t).toMatchObject({ center: '000', study_iuid: '1.2.3', study_pk: 5, source_seq: 10, deleted: true, modalities: [] });
    expect(Object.keys(t).sort()).toEqual([...STUDY_RECORD_FIELDS].sort());
  });
});
