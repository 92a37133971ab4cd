import { describe, expect, it } from 'vitest';
import { emptyConversionStats } from '../../../../src/agent/record/conversion-stats.js';
import { coalesceChanges } from '../../../../src/agent/sources/orthanc/change-feed.js';
import { parseOrthancUrl } from '../../../../src/agent/sources/orthanc/orthanc-client.js';
import { mapOrthancStudy, studyDateTime } from '../../../../src/agent/sources/orthanc/study-mapping.js';
import type { OrthancChange, OrthancSeries, OrthancStudy } from '../../../../src/agent/sources/orthanc/orthanc-client.js';

const study = (tags: Record<string, string>, patient: Record<string, string>): OrthancStudy => ({
  ID: 'a-b', MainDicomTags: tags, PatientMainDicomTags: patient, Series: [],
});
const series = (modality: string | undefined, instances: number): OrthancSeries => ({
  ID: `s${Math.random()}`, MainDicomTags: modality === undefined ? {} : { Modality: modality }, Instances: Array.from({ length: instances }, (_, i) => `i${i}`),
});

describe('Orthanc study → record', () => {
  it('maps the main DICOM tags and the series', () => {
    const stats = emptyConversionStats();
    const r = mapOrthancStudy(
      study(
        { StudyInstanceUID: '1.2.3', StudyDate: '20240115', StudyTime: '101530.123', StudyDescription: 'Tórax ', AccessionNumber: 'A1', StudyID: '7', ReferringPhysicianName: 'DOC^Who' },
        { PatientID: '12.345.678-5', PatientName: 'Muñoz^José', PatientBirthDate: '19800229', PatientSex: 'M', IssuerOfPatientID: 'RUT' },
      ),
      [series('CT', 2), series('sr', 1), series('CT', 3)], 'C1', 42, stats,
    );
    expect(r).toEqual({
      center: 'C1', study_iuid: '1.2.3', study_pk: null, patient_pk: null, patient_id: '12.345.678-5', patient_id_issuer: 'RUT',
      patient_name: 'Muñoz^José', patient_birthdate: '1980-02-29', patient_sex: 'M', study_datetime: '2024-01-15T10:15:30',
      study_description: 'Tórax', study_modality: 'CT\\SR', modalities: ['CT', 'SR'], study_series: 3, study_instances: 6,
      accession_no: 'A1', study_id: '7', referring_physician: 'DOC^Who', source_seq: 42, deleted: false,
    });
    expect(stats).toEqual(emptyConversionStats());
  });

  it('turns messy values into nulls and counts the invalid ones', () => {
    const stats = emptyConversionStats();
    const r = mapOrthancStudy(
      study({ StudyInstanceUID: '1.2.4', StudyDate: '20230230', AccessionNumber: '', StudyDescription: '   ' }, { PatientBirthDate: '19801340', PatientName: '' }),
      [series(undefined, 0)], 'C1', 1, stats,
    )!;
    expect(r.study_datetime).toBeNull();
    expect(r.patient_birthdate).toBeNull();
    expect([r.accession_no, r.study_description, r.patient_name, r.patient_id, r.study_modality]).toEqual([null, null, null, null, null]);
    expect(r.modalities).toEqual([]);
    expect(r.study_series).toBe(1);
    expect(stats).toMatchObject({ invalid_study_datetime: 1, invalid_birthdate: 1, missing_iuid: 0 });
  });

  it('skips and counts a study without StudyInstanceUID', () => {
    const stats = emptyConversionStats();
    expect(mapOrthancStudy(study({ StudyDate: '20240101' }, {}), [], 'C1', 1, stats)).toBeNull();
    expect(stats.missing_iuid).toBe(1);
  });

  it.each([
    ['20240115', '0845', { value: '2024-01-15T08:45:00', invalid: false }],
    ['20240115', '07', { value: '2024-01-15T07:00:00', invalid: false }],
    ['20240115', '10:15:30', { value: '2024-01-15T10:15:30', invalid: false }],
    ['20240115', null, { value: '2024-01-15T00:00:00', invalid: false }],
    ['20240115', '256000', { value: '2024-01-15T00:00:00', invalid: true }],
    ['2001-05-06', '120000', { value: '2001-05-06T12:00:00', invalid: false }],
    ['00000000', '120000', { value: null, invalid: true }],
    ['2024', null, { value: null, invalid: true }],
    [null, '120000', { value: null, invalid: false }],
  ])('StudyDate %s + StudyTime %s', (date, time, expected) => {
    expect(studyDateTime(date, time)).toEqual(expected);
  });
});

describe('Orthanc URL and credentials', () => {
  const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;

  it('turns login:password@ into basic auth and a printable URL', () => {
    expect(parseOrthancUrl({ url: 'http://alice:s%40cr%C3%A9t@127.0.0.1:8042/' })).toEqual({ baseUrl: 'http://127.0.0.1:8042', authorization: basic('alice:s@crét') });
  });

  it('prefers the explicit username and password', () => {
    expect(parseOrthancUrl({ url: 'http://old:x@host:8042', username: 'bob', password: 'pw' })).toEqual({ baseUrl: 'http://host:8042', authorization: basic('bob:pw') });
  });

  it('sends no Authorization without a login', () => {
    expect(parseOrthancUrl({ url: 'http://host:8042/orthanc/', username: '', password: '' })).toEqual({ baseUrl: 'http://host:8042/orthanc', authorization: null });
  });
});

describe('change coalescing', () => {
  const ch = (Seq: number, ChangeType: string, ID: string, ResourceType = 'Study'): OrthancChange => ({ Seq, ChangeType, ID, ResourceType });

  it('keeps one decision per study, the last relevant change winning', () => {
    const changes = [
      ch(1, 'NewStudy', 'a'), ch(2, 'NewInstance', 'i', 'Instance'), ch(3, 'StableStudy', 'a'), ch(4, 'NewStudy', 'b'),
      ch(5, 'StableStudy', 'c'), ch(6, 'Deleted', 'c'), ch(7, 'Deleted', 'd'), ch(8, 'StableStudy', 'd'), ch(9, 'ModifiedStudy', 'e'),
      ch(10, 'Deleted', 's', 'Series'), ch(11, 'StablePatient', 'p', 'Patient'),
    ];
    expect(coalesceChanges(changes, false)).toEqual({ refresh: ['a', 'd', 'e'], gone: ['c'] });
    expect(coalesceChanges(changes, true)).toEqual({ refresh: ['a', 'b', 'd', 'e'], gone: ['c'] });
  });
});
