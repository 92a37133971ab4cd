import { describe, expect, it } from 'vitest';
import { personName, studyToDicomJson } from '../../../src/receiver/dicomweb/dicom-json.js';
import type { IncludeSet } from '../../../src/receiver/dicomweb/qido-include.js';
import type { MatchedStudy } from '../../../src/receiver/store/study-match.js';
import { blankStudyRecord } from '../../../src/shared/study-record.js';

const NONE: IncludeSet = { all: false, tags: new Set() };
const ALL: IncludeSet = { all: true, tags: new Set() };
const center = { code: '001', name: 'Hospital Regional', dicomwebUrl: null, retrieveAet: null };

function study(extra: Partial<MatchedStudy['record']> = {}, c: Partial<MatchedStudy['center']> = {}): MatchedStudy {
  return { id: 7, record: { ...blankStudyRecord('001', '1.2.840.1'), ...extra }, center: { ...center, ...c } };
}

const FULL = study({
  patient_id: '12.345.678-5', patient_id_issuer: 'RUT', patient_name: 'PÉREZ GONZÁLEZ^JOSÉ^^', patient_birthdate: '1980-02-29', patient_sex: 'm',
  study_datetime: '2021-03-01T08:05:09', study_description: 'TÓRAX AP', study_modality: 'CT\\SR', modalities: ['CT', 'SR'],
  study_series: 3, study_instances: 120, accession_no: 'ACC1', study_id: 'S1', referring_physician: 'HOUSE^GREGORY',
}, { dicomwebUrl: 'https://pacs.example.cl/dicom-web/', retrieveAet: 'PACS001' });

describe('DICOM JSON of a study', () => {
  it('carries every attribute with its VR, values shaped per VR, keys in ascending tag order', () => {
    const json = studyToDicomJson(FULL, NONE);
    expect(json).toEqual({
      '00080005': { vr: 'CS', Value: ['ISO_IR 192'] },
      '00080020': { vr: 'DA', Value: ['20210301'] },
      '00080030': { vr: 'TM', Value: ['080509'] },
      '00080050': { vr: 'SH', Value: ['ACC1'] },
      '00080054': { vr: 'AE', Value: ['PACS001'] },
      '00080061': { vr: 'CS', Value: ['CT', 'SR'] },
      '00080080': { vr: 'LO', Value: ['Hospital Regional'] },
      '00080090': { vr: 'PN', Value: [{ Alphabetic: 'HOUSE^GREGORY' }] },
      '00081190': { vr: 'UR', Value: ['https://pacs.example.cl/dicom-web/studies/1.2.840.1'] },
      '00090010': { vr: 'LO', Value: ['PACS-INDEXER'] },
      '00091001': { vr: 'LO', Value: ['001'] },
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'PÉREZ GONZÁLEZ^JOSÉ' }] },
      '00100020': { vr: 'LO', Value: ['12.345.678-5'] },
      '00100030': { vr: 'DA', Value: ['19800229'] },
      '00100040': { vr: 'CS', Value: ['M'] },
      '0020000D': { vr: 'UI', Value: ['1.2.840.1'] },
      '00200010': { vr: 'SH', Value: ['S1'] },
      '00201206': { vr: 'IS', Value: [3] },
      '00201208': { vr: 'IS', Value: [120] },
    });
    const keys = Object.keys(json);
    expect(keys).toEqual([...keys].sort((a, b) => parseInt(a, 16) - parseInt(b, 16)));
    expect(keys.every((k) => /^[0-9A-F]{8}$/.test(k))).toBe(true);
  });

  it('adds the optional attributes on includefield, in tag order', () => {
    const json = studyToDicomJson(FULL, ALL);
    expect(json['00081030']).toEqual({ vr: 'LO', Value: ['TÓRAX AP'] });
    expect(json['00100021']).toEqual({ vr: 'LO', Value: ['RUT'] });
    const keys = Object.keys(json);
    expect(keys.indexOf('00081030')).toBe(keys.indexOf('00080090') + 1);
    expect(Object.keys(studyToDicomJson(FULL, { all: false, tags: new Set(['00081030']) }))).toContain('00081030');
    expect(Object.keys(studyToDicomJson(FULL, { all: false, tags: new Set(['00081030']) }))).not.toContain('00100021');
  });

  it('an empty study: every always-returned attribute present without Value; no RetrieveURL/AE title when unregistered', () => {
    const json = studyToDicomJson(study({ study_series: null as unknown as number }, { name: null }), NONE);
    expect(json['00081190']).toBeUndefined();
    expect(json['00080054']).toBeUndefined();
    expect(json['00080080']).toEqual({ vr: 'LO', Value: ['001'] });
    for (const [tag, vr] of [['00080020', 'DA'], ['00080030', 'TM'], ['00080050', 'SH'], ['00080061', 'CS'], ['00080090', 'PN'], ['00100010', 'PN'],
      ['00100020', 'LO'], ['00100030', 'DA'], ['00100040', 'CS'], ['00200010', 'SH'], ['00201206', 'IS']] as const) {
      expect(json[tag]).toEqual({ vr });
    }
    expect(json['00201208']).toEqual({ vr: 'IS', Value: [0] });
    expect(json['0020000D']).toEqual({ vr: 'UI', Value: ['1.2.840.1'] });
  });

  it('a blank or whitespace value is no value; modalities fall back to mods_in_study', () => {
    const json = studyToDicomJson(study({ accession_no: '   ', patient_name: '^^', study_modality: 'mr\\\\ct ' }), NONE);
    expect(json['00080050']).toEqual({ vr: 'SH' });
    expect(json['00100010']).toEqual({ vr: 'PN' });
    expect(json['00080061']).toEqual({ vr: 'CS', Value: ['MR', 'CT'] });
  });

  it('the RetrieveURL escapes what a URL path cannot carry', () => {
    const json = studyToDicomJson(study({ study_iuid: '1.2 3/4' }, { dicomwebUrl: 'http://x/dw' }), NONE);
    expect(json['00081190']).toEqual({ vr: 'UR', Value: ['http://x/dw/studies/1.2%203%2F4'] });
  });
});

describe('PN values', () => {
  it.each<[string | null, unknown]>([
    ['DOE^JOHN', [{ Alphabetic: 'DOE^JOHN' }]],
    ['Yamada^Tarou=山田^太郎=やまだ^たろう', [{ Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎', Phonetic: 'やまだ^たろう' }]],
    ['=山田^太郎', [{ Ideographic: '山田^太郎' }]],
    ['DOE^JOHN^^^', [{ Alphabetic: 'DOE^JOHN' }]],
    ['', null],
    [null, null],
    ['==', null],
  ])('%j', (value, expected) => {
    expect(personName(value)).toEqual(expected);
  });
});
