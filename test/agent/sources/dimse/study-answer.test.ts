import { describe, expect, it } from 'vitest';
import dimse from 'dcmjs-dimse';
import { repairUndeclaredUtf8 } from '../../../../src/agent/sources/dimse/answer-values.js';
import { dicomTime, studyCount, studyDateTime, toStudyAnswer } from '../../../../src/agent/sources/dimse/study-answer.js';

/**
 * The mapping of one C-FIND answer, fed the value shapes dcmjs-dimse produces. The shapes are
 * made the way the library makes them: elements written to a DICOM dataset and read back by its
 * own Dataset class (what a received answer goes through), plus hostile values no server test
 * can produce. The real servers' answers are in the other test files.
 */
const EXPLICIT_LE = '1.2.840.10008.1.2.1';

/** Elements → DICOM bytes → elements, as a C-FIND answer crosses the network. */
function received(elements: Record<string, unknown>): Record<string, unknown> {
  const bytes = new dimse.Dataset(elements, EXPLICIT_LE).getDenaturalizedDataset();
  return new dimse.Dataset(bytes, EXPLICIT_LE).getElements();
}

/** What dcmjs gives for text bytes in no declared character set: a windows-1252 reading. */
const undeclared = (text: string, encoding: 'utf8' | 'latin1'): string => new TextDecoder('latin1').decode(Buffer.from(text, encoding));

describe('toStudyAnswer', () => {
  it('maps every field of a complete answer', () => {
    const answer = toStudyAnswer(received({
      SpecificCharacterSet: 'ISO_IR 192', StudyInstanceUID: '1.2.3', PatientID: 'P1', IssuerOfPatientID: 'HOSP',
      PatientName: 'MUÑOZ^JOSÉ^^^', PatientBirthDate: '19800229', PatientSex: 'M', StudyDate: '20240115', StudyTime: '101530.123',
      AccessionNumber: 'ACC1', StudyID: 'S1', StudyDescription: 'TÓRAX', ReferringPhysicianName: 'PÉREZ^ANA^^DR',
      ModalitiesInStudy: ['CT', 'MR'], NumberOfStudyRelatedSeries: '3', NumberOfStudyRelatedInstances: '12',
    }));
    expect(answer).toEqual({
      studyInstanceUid: '1.2.3', patientId: 'P1', issuerOfPatientId: 'HOSP', patientName: 'MUÑOZ^JOSÉ', patientBirthDate: '1980-02-29',
      patientSex: 'M', studyDateTime: '2024-01-15T10:15:30', accessionNumber: 'ACC1', studyId: 'S1', studyDescription: 'TÓRAX',
      referringPhysician: 'PÉREZ^ANA^^DR', modalities: ['CT', 'MR'], series: 3, instances: 12, invalid: [],
    });
  });

  it('gives null and [] for keys not returned, and for keys returned empty — never 0', () => {
    const bare = toStudyAnswer(received({ StudyInstanceUID: '1.2.3' }))!;
    const empty = toStudyAnswer(received({
      StudyInstanceUID: '1.2.3', PatientName: '', PatientID: '', ModalitiesInStudy: '', NumberOfStudyRelatedSeries: '',
      NumberOfStudyRelatedInstances: '', StudyDate: '', PatientBirthDate: '',
    }))!;
    for (const a of [bare, empty]) {
      expect(a).toMatchObject({ patientName: null, patientId: null, modalities: [], series: null, instances: null, studyDateTime: null, patientBirthDate: null, invalid: [] });
    }
  });

  it('reads PN as the library shapes it, keeps components and trims the trailing empty ones', () => {
    const pn = (v: unknown): string | null => toStudyAnswer({ StudyInstanceUID: '1.2', PatientName: v })!.patientName;
    expect(pn([{ Alphabetic: 'DOE^JOHN^^^' }])).toBe('DOE^JOHN');
    expect(pn([{ Alphabetic: 'DOE^JOHN^Q^DR^JR' }])).toBe('DOE^JOHN^Q^DR^JR');
    expect(pn([{ Alphabetic: '^JOHN' }])).toBe('^JOHN');
    expect(pn([{ Alphabetic: ' DOE ^ JOHN ' }])).toBe('DOE^JOHN');
    expect(pn([{ Alphabetic: '^^^^' }])).toBeNull();
    expect(pn([{ Ideographic: '山田^太郎' }])).toBeNull();
    expect(pn([])).toBeNull();
    expect(pn('YAMADA^TARO=山田^太郎=やまだ^たろう')).toBe('YAMADA^TARO');
    expect(pn([{ Alphabetic: 'A^B' }, { Alphabetic: 'C^D' }])).toBe('A^B');
    expect(pn(42)).toBeNull();
    expect(toStudyAnswer(received({ StudyInstanceUID: '1.2', PatientName: 'A^B=X^Y' }))!.patientName).toBe('A^B');
  });

  it('upper-cases and de-duplicates modalities, from a string or an array', () => {
    const mods = (v: unknown): string[] => toStudyAnswer({ StudyInstanceUID: '1.2', ModalitiesInStudy: v })!.modalities;
    expect(mods('ct')).toEqual(['CT']);
    expect(mods(['CT', 'mr', 'CT', '', ' SR '])).toEqual(['CT', 'MR', 'SR']);
    expect(mods('CT\\MR')).toEqual(['CT', 'MR']);
    expect(mods(undefined)).toEqual([]);
    expect(mods(null)).toEqual([]);
    expect(toStudyAnswer(received({ StudyInstanceUID: '1.2', ModalitiesInStudy: 'CT\\MR\\CT' }))!.modalities).toEqual(['CT', 'MR']);
  });

  it('reads counts strictly: unknown is null, garbage is null and counted invalid', () => {
    expect(studyCount(undefined)).toEqual({ value: null, invalid: false });
    expect(studyCount(null)).toEqual({ value: null, invalid: false });
    expect(studyCount('')).toEqual({ value: null, invalid: false });
    expect(studyCount([])).toEqual({ value: null, invalid: false });
    expect(studyCount(0)).toEqual({ value: 0, invalid: false });
    expect(studyCount([7])).toEqual({ value: 7, invalid: false });
    expect(studyCount(' 12 ')).toEqual({ value: 12, invalid: false });
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 31, 'abc', '1e3', '-3', {}]) expect(studyCount(bad), String(bad)).toEqual({ value: null, invalid: true });
    const a = toStudyAnswer({ StudyInstanceUID: '1.2', NumberOfStudyRelatedSeries: -4, NumberOfStudyRelatedInstances: 'x' })!;
    expect(a).toMatchObject({ series: null, instances: null, invalid: ['series', 'instances'] });
  });

  it('builds studyDateTime from StudyDate and StudyTime in their DICOM forms', () => {
    expect(studyDateTime('20240115', '101530.123456')).toEqual({ value: '2024-01-15T10:15:30', invalid: false });
    expect(studyDateTime('20240115', '0845')).toEqual({ value: '2024-01-15T08:45:00', invalid: false });
    expect(studyDateTime('20240115', '10')).toEqual({ value: '2024-01-15T10:00:00', invalid: false });
    expect(studyDateTime('20240115', '10:15:30')).toEqual({ value: '2024-01-15T10:15:30', invalid: false });
    expect(studyDateTime('20240115', null)).toEqual({ value: '2024-01-15T00:00:00', invalid: false });
    expect(studyDateTime('2024.01.15', null)).toEqual({ value: '2024-01-15T00:00:00', invalid: false });
    expect(studyDateTime('20240115', '2561')).toEqual({ value: '2024-01-15T00:00:00', invalid: true });
    expect(studyDateTime('20240115', '235960')).toEqual({ value: '2024-01-15T00:00:00', invalid: true });
    for (const bad of ['20230230', '00000000', '2024011', '20240115-20240116', 'garbage']) expect(studyDateTime(bad, '1015'), bad).toEqual({ value: null, invalid: true });
    expect(studyDateTime(null, '1015')).toEqual({ value: null, invalid: false });
    expect(dicomTime('1015.')).toBe('10:15:00');
    expect(dicomTime('1')).toBeNull();
  });

  it('turns an impossible birth date into null and says so', () => {
    const birth = (v: string): [string | null, string[]] => {
      const a = toStudyAnswer({ StudyInstanceUID: '1.2', PatientBirthDate: v })!;
      return [a.patientBirthDate, a.invalid];
    };
    expect(birth('19810229')).toEqual([null, ['patientBirthDate']]);
    expect(birth('19801340')).toEqual([null, ['patientBirthDate']]);
    expect(birth('1980-05-06')).toEqual(['1980-05-06', []]);
    expect(birth('None')).toEqual([null, []]);
  });

  it('drops an answer without a usable StudyInstanceUID', () => {
    for (const uid of [undefined, '', '   ', ['1.2', '1.3'], '1.2 3', 'x'.repeat(256), 'é.1', {}]) {
      expect(toStudyAnswer({ StudyInstanceUID: uid, PatientID: 'P' }), String(uid)).toBeNull();
    }
    expect(toStudyAnswer({ StudyInstanceUID: '1.2.3\0' })!.studyInstanceUid).toBe('1.2.3');
  });

  it('cleans hostile text: NULs, unpaired surrogates, padding; keeps long text whole for the record layer', () => {
    const a = toStudyAnswer({ StudyInstanceUID: '1.2', PatientID: 'P\0 1\0', StudyDescription: `x\uD800y`, AccessionNumber: '  \0 ', StudyID: 'z'.repeat(100_000) })!;
    expect(a.patientId).toBe('P 1');
    expect(a.studyDescription).toBe('x\uFFFDy');
    expect(a.accessionNumber).toBeNull();
    expect(a.studyId).toHaveLength(100_000);
    expect(toStudyAnswer({ StudyInstanceUID: '1.2', PatientID: ['A', 'B'] })!.patientId).toBe('A\\B');
  });
});

describe('character sets', () => {
  it('leaves declared answers alone: dcmjs already decoded them', () => {
    const latin1Read = undeclared('MUÑOZ^JOSÉ', 'latin1');
    expect(toStudyAnswer({ SpecificCharacterSet: 'ISO_IR 192', StudyInstanceUID: '1.2', PatientName: [{ Alphabetic: 'MUÑOZ^JOSÉ' }] })!.patientName).toBe('MUÑOZ^JOSÉ');
    // Declared, so never reinterpreted, even when it would read as UTF-8.
    const mojibake = undeclared('Ñ', 'utf8');
    expect(toStudyAnswer({ SpecificCharacterSet: 'ISO_IR 192', StudyInstanceUID: '1.2', PatientID: mojibake })!.patientId).toBe(mojibake);
    expect(latin1Read).toBe('MUÑOZ^JOSÉ');
  });

  it('reads undeclared UTF-8 as UTF-8, undeclared latin1 and ASCII as they are', () => {
    const pn = (alphabetic: string): string | null => toStudyAnswer({ StudyInstanceUID: '1.2', PatientName: [{ Alphabetic: alphabetic }] })!.patientName;
    expect(pn(undeclared('MUÑOZ^JOSÉ', 'utf8'))).toBe('MUÑOZ^JOSÉ');
    expect(pn(undeclared('ŁUKASZ^ŻÓŁĆ', 'utf8'))).toBe('ŁUKASZ^ŻÓŁĆ');
    expect(pn(undeclared("O'BRIEN^SEÁN", 'latin1'))).toBe("O'BRIEN^SEÁN");
    expect(pn(undeclared('SMITH^JOHN', 'utf8'))).toBe('SMITH^JOHN');
    // 0x80–0x9F bytes (€, Š, …) are windows-1252 characters: turned back into bytes correctly.
    expect(repairUndeclaredUtf8(undeclared('€ Š — 😀', 'utf8'))).toBe('€ Š — 😀');
    expect(repairUndeclaredUtf8('ÑANDÚ')).toBe('ÑANDÚ');
    expect(repairUndeclaredUtf8('日本')).toBe('日本');
  });
});
