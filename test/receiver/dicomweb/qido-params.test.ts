import { describe, expect, it } from 'vitest';
import { parseQido, WARNING_FUZZY, type QueryValues } from '../../../src/receiver/dicomweb/qido-params.js';

const BOUNDS = { maxResults: 100, maxOffset: 500 };
const parse = (q: QueryValues) => parseQido(q, BOUNDS);
const match = (q: QueryValues) => parse(q).match;

/** The 400 a query gets: its message must name `key` and never quote `secret`. */
function refusal(q: QueryValues, key: string, secret?: string): string {
  try {
    parse(q);
  } catch (err) {
    expect((err as { status?: number }).status).toBe(400);
    const message = (err as Error).message;
    expect(message).toContain(key);
    if (secret) expect(message).not.toContain(secret);
    return message;
  }
  throw new Error(`no refusal for ${JSON.stringify(q).slice(0, 100)}`);
}

describe('keys by keyword and by tag', () => {
  it('names the same attribute: keyword, tag, lower-case hex, lower-case keyword', () => {
    for (const key of ['AccessionNumber', '00080050', '00080050'.toLowerCase(), 'accessionnumber']) {
      expect(match({ [key]: 'A1' })).toEqual({ accessionNo: { equals: 'A1' }, includeDeleted: false });
    }
    expect(match({ '0020000d': '1.2.3' })).toEqual({ studyIuids: ['1.2.3'], includeDeleted: false });
  });

  it('ignores unknown keys and parameters, and empty or lone-* values (universal matching)', () => {
    const q = parse({ Foo: 'x', '00191001': 'y', 'StudyDate.x': '1', 'PatientName': '*', AccessionNumber: '', StudyID: '  ', PatientID: '**', ModalitiesInStudy: '*', StudyInstanceUID: '' });
    expect(q.match).toEqual({ includeDeleted: false });
    expect(q.centers).toBeNull();
    expect(q.warnings).toEqual([]);
  });

  it('names the known attributes it cannot match on in a warning, never their values', () => {
    const q = parse({ NumberOfStudyRelatedInstances: '12', '00201206': '3', PatientBirthDate: '' });
    expect(q.match).toEqual({ includeDeleted: false });
    expect(q.warnings).toEqual(['299 pacs-indexer: "The following attributes are not supported as matching keys and were ignored: NumberOfStudyRelatedInstances, NumberOfStudyRelatedSeries."']);
  });

  it('refuses a patient attribute it cannot match on, or an unknown patient-like name, never quoting the value', () => {
    refusal({ PatientBirthDate: '19800101' }, 'PatientBirthDate (00100030)', '19800101');
    refusal({ '00100040': 'F' }, 'PatientSex (00100040)');
    refusal({ 'patients_id': '12345678-5' }, 'a patient attribute this index does not know', '12345678-5');
  });

  it('refuses a single-valued key given twice (as keyword and tag too), naming it', () => {
    refusal({ PatientID: ['12345678-5', '1-9'] }, 'PatientID', '12345678-5');
    refusal({ PatientID: '12345678-5', '00100020': '1-9' }, 'PatientID', '12345678-5');
    refusal({ PatientName: ['A', 'B'] }, 'PatientName');
    refusal({ StudyDate: ['20200101', '20200102'] }, 'StudyDate');
    refusal({ limit: ['1', '2'] }, 'limit');
    refusal({ offset: ['1', '2'] }, 'offset');
    refusal({ fuzzymatching: ['true', 'false'] }, 'fuzzymatching');
    refusal({ InstitutionName: ['a', 'b'] }, 'InstitutionName');
  });

  it('refuses values longer than any stored column, naming the key', () => {
    const long = 'Z'.repeat(8192);
    for (const key of ['PatientName', 'PatientID', 'AccessionNumber', 'StudyDescription', 'ReferringPhysicianName', 'InstitutionName', 'ModalitiesInStudy']) {
      refusal({ [key]: long }, key, long.slice(0, 50));
    }
  });
});

describe('matching', () => {
  it('dates and times', () => {
    expect(match({ StudyDate: '20210301-20210315', StudyTime: '0800-1030' })).toEqual({
      from: '2021-03-01', to: '2021-03-15', timeFrom: '08:00:00', timeTo: '10:30:59', includeDeleted: false,
    });
    expect(match({ '00080020': '-20210315' })).toEqual({ to: '2021-03-15', includeDeleted: false });
    refusal({ StudyDate: '20219999' }, 'StudyDate', '20219999');
    refusal({ StudyDate: '99999999-' }, 'StudyDate', '99999999');
    refusal({ StudyTime: '2500' }, 'StudyTime');
  });

  it('a dash is literal outside dates and times', () => {
    expect(match({ AccessionNumber: 'A-B', StudyID: '1-2' })).toEqual({ accessionNo: { equals: 'A-B' }, studyId: { equals: '1-2' }, includeDeleted: false });
  });

  it('text keys: equality, or LIKE with wildcards (metacharacters escaped)', () => {
    expect(match({ AccessionNumber: ' ACC1 ', StudyID: 'S*', StudyDescription: '*50%*' })).toEqual({
      accessionNo: { equals: 'ACC1' }, studyId: { like: 'S%' }, description: { like: '%50!%%' }, includeDeleted: false,
    });
  });

  it('PatientID: a RUT in any spelling is its patient key; any other id is also literal', () => {
    for (const rut of ['12.345.678-5', '12345678-5', '123456785', ' 12.345.678-5 ']) {
      expect(match({ PatientID: rut })).toEqual({ patientKey: '12345678-5', includeDeleted: false });
    }
    expect(match({ PatientID: '12667869-k' })).toEqual({ patientKey: '12667869-K', includeDeleted: false });
    expect(match({ PatientID: 'abc-1' })).toEqual({ patientKey: 'ABC-1', patientId: { equals: 'abc-1' }, includeDeleted: false });
    expect(match({ PatientID: '12345678-6' })).toEqual({ patientKey: '12345678-6', patientId: { equals: '12345678-6' }, includeDeleted: false });
    expect(match({ '00100020': '*345*' })).toEqual({ patientId: { like: '%345%' }, includeDeleted: false });
  });

  it('PatientName and ReferringPhysicianName', () => {
    expect(match({ PatientName: 'MUÑOZ*' })).toEqual({ familyName: { like: 'MUNOZ%' }, includeDeleted: false });
    expect(match({ PatientName: 'PÉREZ^JOSÉ' })).toEqual({ familyName: { equals: 'PEREZ' }, patientName: { components: [null, { equals: 'JOSÉ' }] }, includeDeleted: false });
    expect(match({ ReferringPhysicianName: '*house*' })).toEqual({ referringPhysician: { whole: '%house%' }, includeDeleted: false });
  });

  it('ModalitiesInStudy: one, \\-separated, comma-separated or repeated; upper-cased', () => {
    expect(match({ ModalitiesInStudy: 'ct' })).toEqual({ modalities: ['CT'], includeDeleted: false });
    expect(match({ ModalitiesInStudy: 'CT\\MR' }).modalities).toEqual(['CT', 'MR']);
    expect(match({ ModalitiesInStudy: ['CT', 'MR\\SR', ' ct '] }).modalities).toEqual(['CT', 'MR', 'SR']);
    expect(match({ '00080061': 'CT,MR' }).modalities).toEqual(['CT', 'MR']);
    refusal({ ModalitiesInStudy: 'C*' }, 'not supported for ModalitiesInStudy');
    refusal({ ModalitiesInStudy: 'CT\\M?' }, 'not supported for ModalitiesInStudy');
    refusal({ ModalitiesInStudy: 'ÑM' }, 'ModalitiesInStudy', 'ÑM');
    refusal({ ModalitiesInStudy: 'A'.repeat(17) }, 'ModalitiesInStudy');
  });

  it('StudyInstanceUID: a list, \\- or comma-separated and/or repeated, at most 1000', () => {
    expect(match({ StudyInstanceUID: '1.2.3\\1.2.4,1.2.5' }).studyIuids).toEqual(['1.2.3', '1.2.4', '1.2.5']);
    expect(match({ StudyInstanceUID: ['1.2.3', '1.2.4\\1.2.3', ''] }).studyIuids).toEqual(['1.2.3', '1.2.4']);
    const uids = Array.from({ length: 1000 }, (_, i) => `1.2.${i}`);
    expect(match({ StudyInstanceUID: uids.join('\\') }).studyIuids).toHaveLength(1000);
    refusal({ StudyInstanceUID: [...uids, '1.3'].join('\\') }, 'StudyInstanceUID');
    refusal({ StudyInstanceUID: [...uids.slice(0, 500), '1.3'].concat(uids.slice(500)) }, 'StudyInstanceUID');
    for (const bad of ['1.2.*', 'abc', '1..2', '.1', '1.2.', `1.${'2'.repeat(63)}`, '1.2.3 4']) refusal({ StudyInstanceUID: bad }, 'StudyInstanceUID', bad);
  });

  it('centre keys: InstitutionName (a pattern) and the private centre code (a list), resolved later', () => {
    expect(parse({ InstitutionName: 'Clínica*' }).centers).toEqual({ institution: 'Clínica*' });
    expect(parse({ '00091001': ['001\\002', '003'] }).centers).toEqual({ codes: ['001', '002', '003'] });
    expect(parse({ '00080080': 'x', '00091001': '001' }).centers).toEqual({ institution: 'x', codes: ['001'] });
    expect(parse({ '00091001': '*' }).centers).toBeNull();
    expect(parse({ InstitutionName: '' }).centers).toBeNull();
    // the private key is reached by its tag only: its dictionary name is no keyword
    expect(parse({ CenterCode: '001' }).centers).toBeNull();
  });
});

describe('paging, includefield and warnings', () => {
  it('limit defaults to the cap and is capped; offset is bounded', () => {
    expect(parse({})).toMatchObject({ limit: 100, offset: 0, capped: true });
    expect(parse({ limit: '10', offset: '20' })).toMatchObject({ limit: 10, offset: 20, capped: false });
    expect(parse({ limit: '100' })).toMatchObject({ limit: 100, capped: false });
    expect(parse({ limit: '101' })).toMatchObject({ limit: 100, capped: true });
    expect(parse({ limit: '99999999999999999999999' })).toMatchObject({ limit: 100, capped: true });
    expect(parse({ LIMIT: '05', Offset: '500' })).toMatchObject({ limit: 5, offset: 500 });
    expect(refusal({ offset: '501' }, 'offset')).toMatch(/StudyDate/);
    refusal({ limit: '0' }, 'limit');
    for (const bad of ['1e3', '-1', '0x10', '+5', ' 5', '5.0', '', 'ten']) {
      refusal({ limit: bad }, 'limit');
      refusal({ offset: bad }, 'offset');
    }
  });

  it('fuzzymatching=true is answered with the standard warning', () => {
    expect(parse({ fuzzymatching: 'true' }).warnings).toEqual([WARNING_FUZZY]);
    expect(parse({ fuzzymatching: 'TRUE' }).warnings).toEqual([WARNING_FUZZY]);
    expect(parse({ fuzzymatching: 'false' }).warnings).toEqual([]);
    expect(WARNING_FUZZY).toBe('299 pacs-indexer: "The fuzzymatching parameter is not supported. Only literal matching has been performed."');
  });

  it('includefield: keywords, tags, comma-separated or repeated, all; unknown ignored', () => {
    const tags = (q: QueryValues) => [...parse(q).include.tags].sort();
    expect(tags({ includefield: '00081030,00080060,00080090,00100030' })).toEqual(['00080090', '00081030', '00100030']);
    expect(tags({ includefield: ['StudyDescription', 'IssuerOfPatientID', 'Nonsense'] })).toEqual(['00081030', '00100021']);
    expect(parse({ includefield: 'all' }).include.all).toBe(true);
    expect(parse({ includeField: 'ALL' }).include.all).toBe(true);
    expect(parse({}).include).toEqual({ all: false, tags: new Set() });
    // a matching key is returned too
    expect(tags({ StudyDescription: '*torax*' })).toEqual(['00081030']);
  });
});
