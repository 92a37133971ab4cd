import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { familyNameKey, foldText, patientKey } from '../../../src/shared/patient-key.js';
import { apiV2, expectedOrder, LONG_DESCRIPTION, qidoAll, seed, type Fixture, type Seeded } from './qido-fixtures.js';

/**
 * QIDO-RS study search over real HTTP against a realistic seeded index: every key's matching
 * (against a model of the fixture), and the same results as /api/v2 for the same filters.
 */
const CAP = 25;
let s: Seeded;

beforeAll(async () => {
  s = await seed('rx_qido_search', { reads: { dicomwebMaxResults: CAP, maxOffset: 200 } });
});
afterAll(async () => {
  await s?.rx.close();
});

const all = (pairs: [string, string][]): Promise<string[]> => qidoAll(s, pairs, CAP);
const fold = (v: string | null): string => foldText(v ?? '');
const family = (f: Fixture): string => familyNameKey(f.patient_name) ?? '';
const alphabetic = (v: string | null): string => (v ?? '').split('=')[0]!;
const component = (v: string | null, i: number): string => fold(alphabetic(v).split('^')[i] ?? '');
const date = (f: Fixture): string | null => f.study_datetime?.slice(0, 10) ?? null;
const time = (f: Fixture): string | null => f.study_datetime?.slice(11) ?? null;
const inRange = (v: string | null, from: string, to: string): boolean => v !== null && v >= from && v <= to;

const CASES: [string, [string, string][], (f: Fixture) => boolean][] = [
  ['no key: everything', [], () => true],
  ['PatientID, RUT with dots', [['PatientID', '12.345.678-5']], (f) => patientKey(f.patient_id) === '12345678-5'],
  ['PatientID, RUT compact', [['PatientID', '123456785']], (f) => patientKey(f.patient_id) === '12345678-5'],
  ['PatientID, RUT with dash, by tag', [['00100020', '12345678-5']], (f) => patientKey(f.patient_id) === '12345678-5'],
  ['PatientID, RUT with lower-case k', [['PatientID', '12667869-k']], (f) => patientKey(f.patient_id) === '12667869-K'],
  ['PatientID, non-RUT literal (case-sensitive)', [['PatientID', 'abc-1']], (f) => f.patient_id === 'abc-1'],
  ['PatientID, non-RUT literal upper', [['PatientID', 'ABC-1']], (f) => f.patient_id === 'ABC-1'],
  ['PatientID wildcard', [['PatientID', '*C-00*']], (f) => (f.patient_id ?? '').includes('C-00')],
  ['PatientID wildcard is case-sensitive', [['00100020', '*c-1']], (f) => (f.patient_id ?? '').endsWith('c-1')],
  ['PatientID ? wildcard', [['PatientID', '3705779-?']], (f) => /^3705779-.$/.test(f.patient_id ?? '')],
  ['PatientID unknown', [['PatientID', '99999999-9']], () => false],
  ['PatientName family exact (accent/case-insensitive)', [['PatientName', 'PÉREZ']], (f) => family(f) === 'PEREZ'],
  ['PatientName family prefix', [['PatientName', 'pérez*']], (f) => family(f).startsWith('PEREZ')],
  ['PatientName prefix with a blank', [['PatientName', 'PÉREZ *']], (f) => family(f).startsWith('PEREZ ')],
  ['PatientName MUÑOZ finds MUNOZ too', [['PatientName', 'MUÑOZ']], (f) => family(f) === 'MUNOZ'],
  ['PatientName MUNOZ finds MUÑOZ too', [['00100010', 'munoz']], (f) => family(f) === 'MUNOZ'],
  ['PatientName contains (OHIF *x*): a given name', [['PatientName', '*maría*']], (f) => fold(alphabetic(f.patient_name)).includes('MARIA')],
  ['PatientName given component only', [['PatientName', '*^JOSÉ']], (f) => component(f.patient_name, 1) === 'JOSE'],
  ['PatientName family and given', [['PatientName', 'PÉREZ GONZÁLEZ^josé']], (f) => family(f) === 'PEREZ GONZALEZ' && component(f.patient_name, 1) === 'JOSE'],
  ['PatientName ? wildcard in the family name', [['PatientName', 'N?ÑEZ']], (f) => /^N.NEZ$/.test(family(f))],
  ['PatientName with a LIKE metacharacter', [['PatientName', 'O_*']], (f) => family(f).startsWith('O_')],
  ['PatientName with an ideographic group', [['PatientName', 'PERALTA=ペラルタ']], (f) => family(f) === 'PERALTA'],
  ['PatientName unknown', [['PatientName', 'ZZZZ*']], () => false],
  ['ReferringPhysicianName family', [['ReferringPhysicianName', 'house']], (f) => component(f.referring_physician, 0) === 'HOUSE'],
  ['ReferringPhysicianName contains', [['00080090', '*lisa*']], (f) => fold(f.referring_physician).includes('LISA')],
  ['ReferringPhysicianName components', [['ReferringPhysicianName', 'WILSON^JAMES']], (f) => component(f.referring_physician, 0) === 'WILSON' && component(f.referring_physician, 1) === 'JAMES'],
  ['StudyDate single', [['StudyDate', '20210301']], (f) => date(f) === '2021-03-01'],
  ['StudyDate range, dashed dates', [['StudyDate', '2021-03-01-2021-03-15']], (f) => inRange(date(f), '2021-03-01', '2021-03-15')],
  ['StudyDate open start', [['StudyDate', '-20201231']], (f) => inRange(date(f), '0000', '2020-12-31')],
  ['StudyDate open end, by tag', [['00080020', '20210301-']], (f) => inRange(date(f), '2021-03-01', '9999')],
  ['StudyDate OHIF open start', [['StudyDate', '19700102-20210228']], (f) => inRange(date(f), '1970-01-02', '2021-02-28')],
  ['StudyTime minute', [['StudyTime', '1030']], (f) => inRange(time(f), '10:30:00', '10:30:59')],
  ['StudyTime hour range', [['StudyTime', '08-10']], (f) => inRange(time(f), '08:00:00', '10:59:59')],
  ['StudyTime open start', [['StudyTime', '-0800']], (f) => inRange(time(f), '00:00:00', '08:00:59')],
  ['StudyTime exact with fraction', [['StudyTime', '103015.000']], (f) => time(f) === '10:30:15'],
  ['StudyDate and StudyTime', [['StudyDate', '20210301'], ['StudyTime', '10-']], (f) => date(f) === '2021-03-01' && inRange(time(f), '10:00:00', '23:59:59')],
  ['AccessionNumber exact', [['AccessionNumber', 'ACC-3']], (f) => f.accession_no === 'ACC-3'],
  ['AccessionNumber case-insensitive', [['AccessionNumber', 'acc-3']], (f) => f.accession_no === 'ACC-3'],
  ['AccessionNumber wildcard', [['00080050', 'ACC-?']], (f) => f.accession_no !== null],
  ['AccessionNumber trailing *', [['AccessionNumber', 'ACC-0*']], (f) => f.accession_no === 'ACC-0'],
  ['StudyID', [['StudyID', 'S1']], (f) => f.study_id === 'S1'],
  ['StudyID wildcard', [['00200010', 'S*']], (f) => f.study_id !== null],
  ['StudyDescription contains', [['StudyDescription', '*torax*']], (f) => fold(f.study_description).includes('TORAX')],
  ['StudyDescription contains a LIKE metacharacter', [['00081030', '*50%*']], (f) => (f.study_description ?? '').includes('50%')],
  ['StudyDescription exact (case-insensitive)', [['StudyDescription', 'torax ap']], (f) => fold(f.study_description) === 'TORAX AP'],
  ['StudyDescription, a long one exactly', [['StudyDescription', LONG_DESCRIPTION]], (f) => f.study_description === LONG_DESCRIPTION],
  ['ModalitiesInStudy one', [['ModalitiesInStudy', 'CT']], (f) => f.modalities.includes('CT')],
  ['ModalitiesInStudy lower-case', [['00080061', 'ko']], (f) => f.modalities.includes('KO')],
  ['ModalitiesInStudy \\-list', [['ModalitiesInStudy', 'MR\\US']], (f) => f.modalities.some((m) => m === 'MR' || m === 'US')],
  ['ModalitiesInStudy repeated', [['ModalitiesInStudy', 'PT'], ['ModalitiesInStudy', 'DX']], (f) => f.modalities.some((m) => m === 'PT' || m === 'DX')],
  ['StudyInstanceUID list (one UID held by two centres)', [['StudyInstanceUID', '1.2.826.0.1.0\\1.2.826.0.1.5,1.2.826.0.1.6']],
    (f) => ['1.2.826.0.1.0', '1.2.826.0.1.5', '1.2.826.0.1.6'].includes(f.study_iuid)],
  ['StudyInstanceUID repeated, by tag', [['0020000D', '1.2.826.0.1.7'], ['0020000d', '1.2.826.0.1.8']], (f) => ['1.2.826.0.1.7', '1.2.826.0.1.8'].includes(f.study_iuid)],
  ['InstitutionName, accent-insensitive', [['InstitutionName', 'clinica alemana']], (f) => f.center === 'C2'],
  ['InstitutionName wildcard', [['00080080', '*concepci?n*']], (f) => f.center === 'C1'],
  ['InstitutionName by code (a centre without a name)', [['InstitutionName', 'C3']], (f) => f.center === 'C3'],
  ['InstitutionName unknown', [['InstitutionName', 'Nowhere']], () => false],
  ['private centre code list', [['00091001', 'C1\\C3']], (f) => f.center === 'C1' || f.center === 'C3'],
  ['private centre code repeated and InstitutionName', [['00091001', 'C1'], ['00091001', 'C2'], ['InstitutionName', '*a*']], (f) => f.center === 'C1' || f.center === 'C2'],
  ['several keys', [['PatientID', '123456785'], ['ModalitiesInStudy', 'CT'], ['StudyDate', '20190101-']],
    (f) => patientKey(f.patient_id) === '12345678-5' && f.modalities.includes('CT') && date(f) !== null],
  ['universal values', [['PatientName', '*'], ['AccessionNumber', ''], ['ModalitiesInStudy', '*'], ['StudyInstanceUID', '']], () => true],
  ['unknown keys and parameters are ignored', [['Foo', 'bar'], ['00191001', 'x'], ['StudyComments', 'y'], ['_', '1']], () => true],
];

describe('matching, key by key (against a model of the fixture)', () => {
  it.each(CASES)('%s', async (_label, pairs, keep) => {
    expect(await all(pairs)).toEqual(expectedOrder(s, keep));
  });

  it('the fixture exercises what it should', () => {
    const n = (keep: (f: Fixture) => boolean) => expectedOrder(s, keep).length;
    expect(n(() => true)).toBeGreaterThan(3 * CAP);
    for (const [label, , keep] of CASES.filter(([l]) => !/unknown|everything|universal|ignored/.test(l))) expect(n(keep), label).toBeGreaterThan(0);
    expect(n((f) => f.study_datetime === null)).toBeGreaterThan(0);
    expect(n((f) => f.modalities.length === 0)).toBeGreaterThan(0);
    expect(n((f) => f.modalities.length > 3)).toBeGreaterThan(0);
    expect(s.data.filter((f) => f.deleted).length).toBeGreaterThan(3);
    expect(n((f) => f.patient_id === 'abc-1')).not.toEqual(n((f) => patientKey(f.patient_id) === 'ABC-1'));
  });
});

describe('results equal /api/v2 for the same filters', () => {
  const SAME: [[string, string][], Record<string, string>][] = [
    [[['PatientID', '12.345.678-5']], { patient_id: '12.345.678-5' }],
    [[['PatientID', '12345678-5']], { patient_id: '123456785' }],
    [[['PatientID', '123456785']], { patient_id: '12.345.678-5' }],
    [[['PatientName', 'MUÑOZ*']], { name: 'MUÑOZ' }],
    [[['PatientName', 'pér*']], { name: 'pér' }],
    [[['PatientName', 'O_*']], { name: 'O_' }],
    [[['00091001', 'C1'], ['StudyDate', '20210301-20210315']], { center: 'C1', from: '2021-03-01', to: '2021-03-15' }],
    [[['InstitutionName', 'Clínica Alemana'], ['StudyDate', '-20210228']], { center: 'C2', to: '2021-02-28' }],
    [[['ModalitiesInStudy', 'CT'], ['StudyDate', '20200101-']], { modality: 'CT', from: '2020-01-01' }],
    [[['ModalitiesInStudy', 'sr'], ['StudyDate', '2021-03-01']], { modality: 'SR', from: '2021-03-01', to: '2021-03-01' }],
    [[['AccessionNumber', 'ACC-3']], { accession_no: 'ACC-3' }],
    [[['StudyDescription', '*torax*']], { description: 'torax' }],
    [[['StudyDescription', '*50%*']], { description: '50%' }],
    [[['StudyInstanceUID', '1.2.826.0.1.0']], { study_iuid: '1.2.826.0.1.0' }],
    [[], {}],
  ];
  it.each(SAME.map(([p, q]) => [JSON.stringify(q), p, q] as const))('%s', async (_label, pairs, q) => {
    const want = await apiV2(s, q);
    expect(want.length).toBeGreaterThan(0);
    expect(await all(pairs)).toEqual(want);
  });
});
