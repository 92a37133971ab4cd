import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiV2, auditSince, lastAuditId, qidoAll, type DicomJson } from '../dicomweb/qido-fixtures.js';
import { errorCommentOf, findscu, queryFile, startDicomIndex, tempDir, type DicomIndex, type FindRun } from './dimse-harness.js';

/**
 * DCMTK's findscu against the receiver's C-FIND SCP over a seeded index: Study Root and Patient
 * Root, wildcards, ranges, accents, RUT spellings; every answer list equals QIDO-RS's and
 * /api/v2's for the same filters (one matcher), every attribute QIDO-RS's (one renderer), and
 * every query is in the audit.
 */
let x: DicomIndex;

beforeAll(async () => {
  x = await startDicomIndex('rx_dimse_find');
});
afterAll(async () => {
  await x?.close();
});

/** The private centre code and the StudyInstanceUID: an answer's `centre/uid`. */
const CENTER_KEYS = ['0009,0010=PACS-INDEXER', '0009,1001', 'StudyInstanceUID'];
const keysOf = (r: FindRun): string[] => r.answers.map((a) => `${String(a['00091001'])}/${String(a.StudyInstanceUID)}`);
const study = (keys: string[], extra: string[] = []) => findscu({ port: x.port, keys: ['QueryRetrieveLevel=STUDY', ...CENTER_KEYS, ...keys], extra });

const CASES: [string, string[], [string, string][], Record<string, string> | null][] = [
  ['no key: everything', [], [], {}],
  ['PatientID, RUT with dots', ['PatientID=12.345.678-5'], [['PatientID', '12.345.678-5']], { patient_id: '12.345.678-5' }],
  ['PatientID, RUT compact', ['PatientID=123456785'], [['PatientID', '123456785']], { patient_id: '123456785' }],
  ['PatientID, RUT with a lower-case k', ['PatientID=12667869-k'], [['PatientID', '12667869-k']], { patient_id: '12667869-K' }],
  ['PatientID, a local id, literally', ['PatientID=abc-1'], [['PatientID', 'abc-1']], null],
  ['PatientID wildcard', ['PatientID=*C-00*'], [['PatientID', '*C-00*']], null],
  ['PatientName prefix, accents and case folded', ['PatientName=pérez*'], [['PatientName', 'pérez*']], { name: 'perez' }],
  ['PatientName MUNOZ finds MUÑOZ', ['PatientName=MUNOZ'], [['PatientName', 'MUNOZ']], null],
  ['PatientName contains a given name', ['PatientName=*maría*'], [['PatientName', '*maría*']], null],
  ['PatientName family and given', ['PatientName=PÉREZ GONZÁLEZ^josé'], [['PatientName', 'PÉREZ GONZÁLEZ^josé']], null],
  ['StudyDate range', ['StudyDate=20210301-20210315'], [['StudyDate', '20210301-20210315']], { from: '2021-03-01', to: '2021-03-15' }],
  ['StudyDate open start', ['StudyDate=-20201231'], [['StudyDate', '-20201231']], { to: '2020-12-31' }],
  ['StudyDate open end', ['StudyDate=20210301-'], [['StudyDate', '20210301-']], { from: '2021-03-01' }],
  ['StudyTime hour range', ['StudyTime=08-10'], [['StudyTime', '08-10']], null],
  ['ModalitiesInStudy one', ['ModalitiesInStudy=CT'], [['ModalitiesInStudy', 'CT']], { modality: 'CT' }],
  ['ModalitiesInStudy list', ['ModalitiesInStudy=MR\\US'], [['ModalitiesInStudy', 'MR\\US']], null],
  ['AccessionNumber', ['AccessionNumber=ACC-3'], [['AccessionNumber', 'ACC-3']], { accession_no: 'ACC-3' }],
  ['StudyInstanceUID list, one UID held by two centres', ['StudyInstanceUID=1.2.826.0.1.0\\1.2.826.0.1.5'], [['StudyInstanceUID', '1.2.826.0.1.0\\1.2.826.0.1.5']], null],
  ['InstitutionName, accent-insensitive wildcard', ['InstitutionName=clinica*'], [['InstitutionName', 'clinica*']], null],
  ['StudyDescription contains', ['StudyDescription=*torax*'], [['StudyDescription', '*torax*']], { description: 'torax' }],
  ['name, dates and modality together', ['PatientName=PEREZ*', 'StudyDate=20200101-', 'ModalitiesInStudy=CT'], [['PatientName', 'PEREZ*'], ['StudyDate', '20200101-'], ['ModalitiesInStudy', 'CT']],
    { name: 'perez', from: '2020-01-01', modality: 'CT' }],
];

describe('Study Root, STUDY level: the same answers as QIDO-RS and /api/v2', () => {
  for (const [name, keys, pairs, api] of CASES) {
    it(name, async () => {
      // A later -k of the same tag replaces the earlier one (the private centre code given a value).
      const r = await study(keys);
      expect(r.status, r.output.slice(-1500)).toBe('0000');
      const found = keysOf(r);
      expect(found).toEqual(await qidoAll(x.s, pairs, 100));
      if (api) expect(found).toEqual(await apiV2(x.s, api));
    });
  }

  it('the private centre code, under its private creator', async () => {
    const dir = tempDir();
    try {
      // findscu -k reads a value of a tag it does not know as hex bytes: dump2dcm gives it its VR.
      const file = await queryFile(dir, ['(0008,0052) CS [STUDY]', '(0009,0010) LO [PACS-INDEXER]', '(0009,1001) LO [C1]', '(0020,000d) UI []'], 'utf8');
      const r = await findscu({ port: x.port, keys: [], file });
      expect(keysOf(r)).toEqual(await qidoAll(x.s, [['00091001', 'C1']], 100));
      expect(keysOf(r)).toEqual(await apiV2(x.s, { center: 'C1' }));
      // Another creator's (0009,1001) is not this index's centre code: not matched, not returned.
      const other = await queryFile(dir, ['(0008,0052) CS [STUDY]', '(0009,0010) LO [SOMEONE ELSE]', '(0009,1001) LO [C1]', '(0020,000d) UI []'], 'utf8');
      const o = await findscu({ port: x.port, keys: [], file: other });
      expect(o.answers).toHaveLength((await qidoAll(x.s, [], 100)).length);
      expect(o.answers[0]!['00091001']).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('RUT spellings are one patient', async () => {
    const spellings = await Promise.all(['12.345.678-5', '123456785', '12345678-5', '12.345.678-5 '].map((v) => study([`PatientID=${v}`])));
    const lists = spellings.map(keysOf);
    expect(lists[0]!.length).toBeGreaterThan(3);
    for (const l of lists) expect(l).toEqual(lists[0]);
  });
});

/** An answer value as text, however dcmjs naturalised it (PN objects, arrays, numbers). */
function text(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.map(text).join('\\');
  if (typeof v === 'object') {
    const pn = v as Record<string, string>;
    return [pn.Alphabetic ?? '', pn.Ideographic ?? '', pn.Phonetic ?? ''].join('=').replace(/=+$/, '');
  }
  return String(v);
}

const qidoText = (a: DicomJson[string] | undefined): string => text(a?.Value ?? []);

describe('every attribute as QIDO-RS renders it', () => {
  const RETURN: [string, string][] = [
    ['StudyDate', '00080020'], ['StudyTime', '00080030'], ['AccessionNumber', '00080050'], ['ModalitiesInStudy', '00080061'],
    ['InstitutionName', '00080080'], ['ReferringPhysicianName', '00080090'], ['StudyDescription', '00081030'], ['PatientName', '00100010'],
    ['PatientID', '00100020'], ['IssuerOfPatientID', '00100021'], ['PatientBirthDate', '00100030'], ['PatientSex', '00100040'],
    ['StudyID', '00200010'], ['NumberOfStudyRelatedSeries', '00201206'], ['NumberOfStudyRelatedInstances', '00201208'], ['RetrieveAETitle', '00080054'],
  ];

  it('study by study, and RetrieveAETitle only where the centre registered it', async () => {
    const r = await study(RETURN.map(([k]) => k));
    const q = await import('../dicomweb/qido-fixtures.js').then((m) => m.qido(x.s, [['includefield', 'all'], ['limit', '1000']]));
    const byKey = new Map((q.json as DicomJson[]).map((j) => [`${qidoText(j['00091001'])}/${qidoText(j['0020000D'])}`, j]));
    expect(r.answers).toHaveLength(byKey.size);
    for (const a of r.answers) {
      const j = byKey.get(`${String(a['00091001'])}/${String(a.StudyInstanceUID)}`)!;
      for (const [keyword, tag] of RETURN) expect(text(a[keyword]), `${keyword} of ${String(a.StudyInstanceUID)}`).toBe(qidoText(j[tag]));
      expect(a.RetrieveAETitle === 'PACSC1').toBe(a['00091001'] === 'C1');
    }
  });

  it('returns only the keys asked (and the level, the character set, the unique key)', async () => {
    const r = await findscu({ port: x.port, keys: ['QueryRetrieveLevel=STUDY', 'PatientID=12667869-K', 'PatientName'] });
    expect(r.answers.length).toBeGreaterThan(0);
    for (const a of r.answers) {
      expect(Object.keys(a).filter((k) => k !== '_vrMap').sort()).toEqual(['PatientID', 'PatientName', 'QueryRetrieveLevel', 'SpecificCharacterSet', 'StudyInstanceUID', ...(a.RetrieveAETitle ? ['RetrieveAETitle'] : [])].sort());
    }
  });
});

describe('character sets', () => {
  it('answers in ISO_IR 192 by default: accented names arrive as UTF-8', async () => {
    const asked = await findscu({ port: x.port, keys: ['QueryRetrieveLevel=STUDY', 'PatientName=NÚÑEZ*', 'StudyInstanceUID'] });
    expect(asked.answers.length).toBe((await qidoAll(x.s, [['PatientName', 'NÚÑEZ*']], 100)).length);
    for (const f of asked.files) {
      expect(f.includes(Buffer.from('ISO_IR 192'))).toBe(true);
      expect(f.includes(Buffer.from('NÚÑEZ', 'utf8')) || f.includes(Buffer.from('Núñez', 'utf8'))).toBe(true);
    }
    expect(asked.answers.map((a) => text(a.PatientName).split('^')[0])).toEqual(expect.arrayContaining(['NÚÑEZ', 'Núñez']));
  });

  it('answers in ISO_IR 100 to a client that asked in ISO_IR 100: Latin-1 bytes, a ? for what Latin-1 cannot hold', async () => {
    const dir = tempDir();
    try {
      const file = await queryFile(dir, ['(0008,0005) CS [ISO_IR 100]', '(0008,0052) CS [STUDY]', '(0010,0010) PN [NÚÑEZ*]', '(0020,000d) UI []'], 'latin1');
      const r = await findscu({ port: x.port, keys: [], file });
      expect(r.status).toBe('0000');
      expect(r.answers.length).toBeGreaterThan(0);
      for (const f of r.files) {
        expect(f.includes(Buffer.from('ISO_IR 100'))).toBe(true);
        expect(f.includes(Buffer.from('N\u00da\u00d1EZ', 'latin1')) || f.includes(Buffer.from('N\u00fa\u00f1ez', 'latin1'))).toBe(true);
        expect(f.includes(Buffer.from('Ú', 'utf8')) || f.includes(Buffer.from('ú', 'utf8'))).toBe(false);
      }
      // dcmjs decodes by the declared set: the same names as the UTF-8 answers.
      expect(r.answers.map((a) => text(a.PatientName))).toEqual(expect.arrayContaining(['NÚÑEZ^MARÍA', 'Núñez^María José']));
      const ideographic = await queryFile(dir, ['(0008,0005) CS [ISO_IR 100]', '(0008,0052) CS [STUDY]', '(0010,0010) PN [PERALTA]', '(0020,000d) UI []'], 'latin1');
      const p = await findscu({ port: x.port, keys: [], file: ideographic });
      expect(p.answers.length).toBeGreaterThan(0);
      for (const a of p.answers) expect(text(a.PatientName)).toBe('PERALTA^LUIS=????^???');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a UTF-8 query without SpecificCharacterSet matches as UTF-8; a Latin-1 one as Latin-1', async () => {
    const dir = tempDir();
    try {
      for (const encoding of ['utf8', 'latin1'] as const) {
        const file = await queryFile(dir, ['(0008,0052) CS [STUDY]', '(0010,0010) PN [MUÑOZ]', '(0020,000d) UI []'], encoding);
        const r = await findscu({ port: x.port, keys: [], file });
        expect(r.answers.length, encoding).toBe((await qidoAll(x.s, [['PatientName', 'MUÑOZ']], 100)).length);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Patient Root', () => {
  it('STUDY level matches as Study Root does', async () => {
    const s = await study(['PatientID=12.345.678-5']);
    const p = await findscu({ port: x.port, patientRoot: true, keys: ['QueryRetrieveLevel=STUDY', ...CENTER_KEYS, 'PatientID=12.345.678-5'] });
    expect(p.status).toBe('0000');
    expect(keysOf(p)).toEqual(keysOf(s));
  });

  it('PATIENT level: one answer per patient — a RUT across centres, a local id per centre and spelling', async () => {
    const rut = await findscu({ port: x.port, patientRoot: true, keys: ['QueryRetrieveLevel=PATIENT', 'PatientID=12.345.678-5', 'PatientName', 'PatientBirthDate', 'NumberOfPatientRelatedStudies', 'RetrieveAETitle'] });
    expect(rut.status, rut.output.slice(-800)).toBe('0000');
    expect(rut.answers).toHaveLength(1);
    const studies = (await qidoAll(x.s, [['PatientID', '12.345.678-5']], 100)).length;
    expect(Number(rut.answers[0]!.NumberOfPatientRelatedStudies)).toBe(studies);
    expect(rut.answers[0]!.RetrieveAETitle).toBe('PACSC1');
    expect(rut.answers[0]!.QueryRetrieveLevel).toBe('PATIENT');

    const names = await findscu({ port: x.port, patientRoot: true, keys: ['QueryRetrieveLevel=PATIENT', 'PatientName=MU*', 'PatientID', 'NumberOfPatientRelatedStudies', '0009,1001', 'StudyDate'] });
    // abc-1 (MUÑOZ^CARLA) and ABC-1 (MUNOZ^CARLOS) in each of the three centres.
    const ids = names.answers.map((a) => String(a.PatientID)).sort();
    expect(ids).toEqual(['ABC-1', 'ABC-1', 'ABC-1', 'abc-1', 'abc-1', 'abc-1']);
    const total = names.answers.reduce((n, a) => n + Number(a.NumberOfPatientRelatedStudies), 0);
    expect(total).toBe((await qidoAll(x.s, [['PatientName', 'MU*']], 100)).length);
    // Study-level keys are neither matched nor returned at the patient level.
    for (const a of names.answers) expect(a.StudyDate).toBeUndefined();
  });

  it('PATIENT level in Study Root, SERIES or no level: failures with an ErrorComment', async () => {
    const cases: [boolean, string[], string, RegExp][] = [
      [false, ['QueryRetrieveLevel=PATIENT'], 'a900', /QueryRetrieveLevel must be STUDY/],
      [true, ['QueryRetrieveLevel=SERIES', 'SeriesInstanceUID'], 'c000', /series and images are at the centre/],
      [false, ['PatientID=1'], 'a900', /QueryRetrieveLevel must be/],
    ];
    for (const [patientRoot, keys, status, comment] of cases) {
      const r = await findscu({ port: x.port, patientRoot, keys: [...keys, 'StudyInstanceUID'] });
      expect(r.status, keys.join(' ')).toBe(status);
      expect(errorCommentOf(r.output)).toMatch(comment);
      expect(r.answers).toEqual([]);
    }
  });
});

describe('refused keys and values', () => {
  it('an impossible date, a patient attribute it cannot match, a value too long: C000 naming the key, never the value', async () => {
    const cases: [string[], RegExp, string][] = [
      [['StudyDate=20210230'], /StudyDate must be a date/, '20210230'],
      [['PatientBirthDate=19800229'], /PatientBirthDate \(00100030\) is not a matching key/, '19800229'],
      [[`PatientName=${'Z'.repeat(1500)}`], /PatientName is too long/, 'ZZZZZZZZZZ'],
      [['ModalitiesInStudy=C*'], /wildcards are not supported for ModalitiesInStudy/, 'C*'],
    ];
    for (const [keys, comment, secret] of cases) {
      const r = await study(keys);
      expect(r.status, keys[0]!.slice(0, 40)).toBe('c000');
      const errorComment = errorCommentOf(r.output);
      expect(errorComment).toMatch(comment);
      expect(errorComment).not.toContain(secret);
      expect(errorComment.length).toBeLessThanOrEqual(64);
    }
  });
});

describe('the audit', () => {
  it('one row per C-FIND: the token, the AE title, the matching keys, the count and how it ended', async () => {
    const since = await lastAuditId(x.s.rx);
    const ok = await study(['PatientID=12.345.678-5', 'PatientName']);
    const refused = await study(['StudyDate=2021-02-30']);
    const rows = await auditSince(x.s.rx, since);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ token_name: 'central', route: 'C-FIND StudyRoot STUDY', result_count: ok.answers.length, status: 200 });
    expect(JSON.parse(String(rows[0]!.parameters))).toMatchObject({
      calling_aet: 'WS1', called_aet: 'NATIONAL_INDEX', address: '127.0.0.1', model: 'StudyRoot', level: 'STUDY',
      keys: { PatientID: '12.345.678-5', PrivateCreator: 'PACS-INDEXER' }, dimse_status: '0000', outcome: 'complete',
    });
    expect(refused.answers).toEqual([]);
    expect(rows[1]).toMatchObject({ token_name: 'central', result_count: 0, status: 400 });
    expect(JSON.parse(String(rows[1]!.parameters))).toMatchObject({ keys: { StudyDate: '2021-02-30' }, dimse_status: 'C000', outcome: 'failed' });
  });
});
