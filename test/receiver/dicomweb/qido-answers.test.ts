import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { familyNameKey } from '../../../src/shared/patient-key.js';
import { bearer, http } from '../receiver-harness.js';
import { expectDicomJsonStudy } from './dicom-json-shape.js';
import { C1_AET, C1_DICOMWEB, expectedOrder, keysOf, qido, qidoAll, seed, type DicomJson, type Fixture, type Seeded } from './qido-fixtures.js';

/** QIDO-RS answers over real HTTP: DICOM JSON shapes, includefield, limit/offset and warnings, Accept, below study level. */
const CAP = 25;
let s: Seeded;

beforeAll(async () => {
  s = await seed('rx_qido_answers', { reads: { dicomwebMaxResults: CAP, maxOffset: 200 } });
});
afterAll(async () => {
  await s?.rx.close();
});

const all = (pairs: [string, string][]): Promise<string[]> => qidoAll(s, pairs, CAP);
const family = (f: Fixture): string => familyNameKey(f.patient_name) ?? '';

function studyOf(r: { json: DicomJson[] }, center: string, uid: string): DicomJson {
  const found = r.json.find((x) => x['00091001']?.Value?.[0] === center && x['0020000D']?.Value?.[0] === uid);
  if (!found) throw new Error(`no ${center}/${uid} in the answer`);
  return found;
}

describe('what users type', () => {
  it('a trailing slash after studies is the same search', async () => {
    const plain = await qido(s, [['PatientID', '12.345.678-5']]);
    const slashed = await http(s.rx.base, 'GET', '/dicom-web/studies/?PatientID=12.345.678-5', { headers: bearer(s.token) });
    expect(slashed.status).toBe(200);
    expect(slashed.json).toEqual(plain.json);
    expect((plain.json as unknown[]).length).toBeGreaterThan(0);
  });

  it('a blank in a whole-name search matches the ^ between components (what a viewer search box sends)', async () => {
    const spaced = await qido(s, [['PatientName', '*gonzalez jose*']]);
    const careted = await qido(s, [['PatientName', '*gonzalez^jose*']]);
    expect((spaced.json as unknown[]).length).toBeGreaterThan(0);
    expect(keysOf(spaced.json as DicomJson[])).toEqual(keysOf(careted.json as DicomJson[]));
  });
});

describe('DICOM JSON answers', () => {
  it('every study of every answer is well-formed (VRs, tag order, empty ones without Value)', async () => {
    for (const include of [[], [['includefield', 'all']]] as [string, string][][]) {
      for (let offset = 0; offset < 100; offset += CAP) {
        const r = await qido(s, [...include, ['offset', String(offset)]]);
        for (const study of r.json as DicomJson[]) expectDicomJsonStudy(study);
      }
    }
  });

  it('a study of the registered centre: every attribute, exactly', async () => {
    const r = await qido(s, [['StudyInstanceUID', '1.2.826.0.1.0'], ['00091001', 'C1'], ['includefield', 'all']]);
    expect(r.json).toHaveLength(1);
    expect(r.json[0]).toEqual({
      '00080005': { vr: 'CS', Value: ['ISO_IR 192'] },
      '00080020': { vr: 'DA', Value: ['20210301'] },
      '00080030': { vr: 'TM', Value: ['080000'] },
      '00080050': { vr: 'SH', Value: ['ACC-0'] },
      '00080054': { vr: 'AE', Value: [C1_AET] },
      '00080061': { vr: 'CS' },
      '00080080': { vr: 'LO', Value: ['Hospital Regional de Concepción'] },
      '00080090': { vr: 'PN', Value: [{ Alphabetic: 'HOUSE^GREGORY' }] },
      '00081030': { vr: 'LO', Value: ['TORAX AP'] },
      '00081190': { vr: 'UR', Value: [`${C1_DICOMWEB}/studies/1.2.826.0.1.0`] },
      '00090010': { vr: 'LO', Value: ['PACS-INDEXER'] },
      '00091001': { vr: 'LO', Value: ['C1'] },
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'PÉREZ GONZÁLEZ^JOSÉ' }] },
      '00100020': { vr: 'LO', Value: ['12.345.678-5'] },
      '00100021': { vr: 'LO', Value: ['RUT'] },
      '00100030': { vr: 'DA' },
      '00100040': { vr: 'CS', Value: ['M'] },
      '0020000D': { vr: 'UI', Value: ['1.2.826.0.1.0'] },
      '00200010': { vr: 'SH' },
      '00201206': { vr: 'IS', Value: [0] },
      '00201208': { vr: 'IS', Value: [0] },
    });
  });

  it('elsewhere: no RetrieveURL nor RetrieveAETitle, InstitutionName says where (name, else code)', async () => {
    const r = await qido(s, [['StudyInstanceUID', '1.2.826.0.1.0\\1.2.826.0.1.2\\1.2.826.0.1.3']]);
    const c2 = studyOf(r, 'C2', '1.2.826.0.1.0');
    expect(c2['00081190']).toBeUndefined();
    expect(c2['00080054']).toBeUndefined();
    expect(c2['00080080']).toEqual({ vr: 'LO', Value: ['Clínica Alemana'] });
    const c3 = studyOf(r, 'C3', '1.2.826.0.1.2');
    expect(c3['00080080']).toEqual({ vr: 'LO', Value: ['C3'] });
    expect(c3['00081190']).toBeUndefined();
    const c1 = studyOf(r, 'C1', '1.2.826.0.1.3');
    expect(c1['00081190']).toEqual({ vr: 'UR', Value: [`${C1_DICOMWEB}/studies/1.2.826.0.1.3`] });
  });

  it('multi-valued modalities, ideographic names, IS numbers, birth date and undated studies', async () => {
    const r = await qido(s, [['StudyInstanceUID', '1.2.826.0.1.8\\1.2.826.0.1.2\\1.2.826.0.1.4\\1.2.826.0.1.1'], ['includefield', 'StudyDescription']]);
    const peralta = studyOf(r, 'C3', '1.2.826.0.1.8');
    expect(peralta['00100010']).toEqual({ vr: 'PN', Value: [{ Alphabetic: 'PERALTA^LUIS', Ideographic: 'ペラルタ^ルイス' }] });
    expect(peralta['00080061']).toEqual({ vr: 'CS', Value: ['MR', 'PT', 'CT'] });
    expect(peralta['00201206']).toEqual({ vr: 'IS', Value: [3] });
    expect(peralta['00201208']).toEqual({ vr: 'IS', Value: [24] });
    const undated = studyOf(r, 'C2', '1.2.826.0.1.4');
    expect(s.data[4]!.study_datetime).toBeNull();
    expect(undated['00080020']).toEqual({ vr: 'DA' });
    expect(undated['00080030']).toEqual({ vr: 'TM' });
    expect(studyOf(r, 'C3', '1.2.826.0.1.2')['00080061']).toEqual({ vr: 'CS', Value: ['CR', 'DX', 'PR', 'KO', 'SR', 'OT'] });
    expect(studyOf(r, 'C2', '1.2.826.0.1.1')['00100030']).toEqual({ vr: 'DA', Value: ['19800229'] });
    expect(peralta['00081030']).toBeDefined();
  });

  it('includefield: tags, keywords, comma-separated or repeated, all; unknown ignored; a matching key is returned', async () => {
    const tagsOf = async (pairs: [string, string][]) => Object.keys((await qido(s, [...pairs, ['limit', '1']])).json[0]);
    const base = await tagsOf([]);
    expect(base).not.toContain('00081030');
    expect(base).not.toContain('00100021');
    expect(await tagsOf([['includefield', '00081030,00080060,00080090,00100030']])).toEqual([...base, '00081030'].sort());
    expect(await tagsOf([['includefield', 'StudyDescription'], ['includefield', 'IssuerOfPatientID']])).toEqual([...base, '00081030', '00100021'].sort());
    expect(await tagsOf([['includefield', 'all']])).toEqual([...base, '00081030', '00100021'].sort());
    expect(await tagsOf([['includefield', 'Bogus,99999999,PatientName.x']])).toEqual(base);
    expect(await tagsOf([['StudyDescription', '*torax*']])).toContain('00081030');
  });

  it('tombstones are never returned', async () => {
    const dead = s.data.filter((f) => f.deleted).map((f) => f.study_iuid);
    const r = await qido(s, [['StudyInstanceUID', dead.join('\\')]]);
    expect(r.status).toBe(200);
    expect(r.json).toEqual([]);
  });

  it('no match: 200 with []', async () => {
    const r = await qido(s, [['PatientID', '99999999-9']]);
    expect(r.status).toBe(200);
    expect(r.text).toBe('[]');
    expect(r.headers['content-type']).toBe('application/dicom+json');
  });
});

describe('limit, offset and warnings', () => {
  const warnings = (h: Record<string, unknown>): string[] => [h.warning ?? []].flat() as string[];
  const LIMIT_WARNING = '299 pacs-indexer: "The number of results exceeded the maximum supported by the server. Additional results can be requested."';
  const FUZZY_WARNING = '299 pacs-indexer: "The fuzzymatching parameter is not supported. Only literal matching has been performed."';

  it('no limit: the cap, with Warning 299 when more match; none when they all fit', async () => {
    const r = await qido(s, []);
    expect(r.json).toHaveLength(CAP);
    expect(warnings(r.headers)).toEqual([LIMIT_WARNING]);
    const few = await qido(s, [['PatientName', 'MUÑOZ']]);
    expect(few.json.length).toBeGreaterThan(0);
    expect(few.json.length).toBeLessThan(CAP);
    expect(few.headers.warning).toBeUndefined();
  });

  it('a limit above the cap is capped, with the warning; one within it is a page, without', async () => {
    const big = await qido(s, [['limit', '1000']]);
    expect(big.json).toHaveLength(CAP);
    expect(warnings(big.headers)).toEqual([LIMIT_WARNING]);
    const page = await qido(s, [['limit', '10']]);
    expect(page.json).toHaveLength(10);
    expect(page.headers.warning).toBeUndefined();
  });

  it('limit/offset pages are consecutive slices of one order', async () => {
    const whole = await all([]);
    const pages: string[] = [];
    for (let offset = 0; offset < whole.length; offset += 7) pages.push(...keysOf((await qido(s, [['limit', '7'], ['offset', String(offset)]])).json));
    expect(pages).toEqual(whole);
    const past = await qido(s, [['offset', String(whole.length)]]);
    expect(past.status).toBe(200);
    expect(past.json).toEqual([]);
  });

  it('fuzzymatching=true: answered normally with its warning; both warnings when both apply', async () => {
    const r = await qido(s, [['PatientName', 'perez'], ['fuzzymatching', 'true']]);
    expect(keysOf(r.json)).toEqual(expectedOrder(s, (f) => family(f) === 'PEREZ'));
    expect(warnings(r.headers)).toEqual([FUZZY_WARNING]);
    const both = await qido(s, [['fuzzymatching', 'true']]);
    expect(warnings(both.headers)).toEqual([FUZZY_WARNING, LIMIT_WARNING]);
    expect((await qido(s, [['fuzzymatching', 'false'], ['limit', '1']])).headers.warning).toBeUndefined();
  });

  it('known attributes it cannot match on: ignored, with a warning naming them', async () => {
    const r = await qido(s, [['NumberOfStudyRelatedSeries', '3'], ['RetrieveAETitle', 'X'], ['limit', '100']]);
    expect(r.json).toHaveLength(CAP);
    expect(warnings(r.headers)).toContain('299 pacs-indexer: "The following attributes are not supported as matching keys and were ignored: NumberOfStudyRelatedSeries, RetrieveAETitle."');
  });

  it('a patient attribute it cannot match on is refused, not ignored (ignoring it would answer every patient)', async () => {
    for (const pairs of [[['PatientBirthDate', '19800229']], [['00100040', 'F']], [['IssuerOfPatientID', 'HOSP']], [['(0010,0020)', '12345678-5']], [['PatientsID', '12345678-5']], [['0010,0020', '1']]] as [string, string][][]) {
      const r = await qido(s, pairs);
      expect(r.status, JSON.stringify(pairs)).toBe(400);
      expect(r.json.message).toMatch(/not a matching key here/);
      expect(r.text).not.toContain('12345678-5');
    }
    // Empty (universal) values are no filter: still answered.
    expect((await qido(s, [['PatientBirthDate', ''], ['PatientSex', '*']])).status).toBe(200);
  });

  it('offset past the server maximum: 400 with a hint to narrow the query', async () => {
    const r = await qido(s, [['offset', '201']]);
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ error: 'bad_request', message: expect.stringMatching(/offset must be at most 200; narrow the query \(e\.g\. a StudyDate range\)/) });
    expect((await qido(s, [['offset', '200']])).status).toBe(200);
  });
});

describe('Accept negotiation', () => {
  it.each(['application/dicom+json', 'application/json', '*/*', 'application/*', 'application/dicom+json; q=0.9, */*; q=0.1', ''])('serves Accept %j', async (accept) => {
    const r = await qido(s, [['limit', '1']], accept === '' ? {} : { accept });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/dicom+json');
    expect(r.json).toHaveLength(1);
  });

  it.each(['multipart/related; type="application/dicom+xml"', 'application/dicom+xml', 'text/html', 'application/json;q=0', 'garbage', '*;;;=='])('406 for Accept %j', async (accept) => {
    const r = await qido(s, [['limit', '1']], { accept });
    expect(r.status).toBe(406);
    expect(r.json).toEqual({ error: 'not_acceptable', message: expect.stringContaining('application/dicom+json') });
  });
});

describe('below study level: not held by this index', () => {
  const NOT_HELD = '299 pacs-indexer: "This index holds study-level records only: series, instances and images are held by the centre\'s own PACS (its RetrieveURL, where the study lists one)."';
  it.each([
    '/dicom-web/studies/1.2.826.0.1.0', '/dicom-web/studies/1.2.826.0.1.0/series', '/dicom-web/studies/1.2.826.0.1.0/series/1.2.3/instances',
    '/dicom-web/studies/1.2.826.0.1.0/metadata', '/dicom-web/studies/1.2.826.0.1.0/rendered', '/dicom-web/studies/1.2.826.0.1.0/series?Modality=CT',
    '/dicom-web/series', '/dicom-web/series?Modality=CT', '/dicom-web/instances', '/dicom-web/instances?SOPClassUID=1.2',
  ])('%s', async (path) => {
    const r = await http(s.rx.base, 'GET', path, { headers: bearer(s.token) });
    expect(r.status).toBe(404);
    expect(r.headers.warning).toBe(NOT_HELD);
    expect(r.json).toEqual({ error: 'not_held', message: expect.stringContaining('study-level records only') });
    const anonymous = await http(s.rx.base, 'GET', path);
    expect(anonymous.status).toBe(401);
  });
});
