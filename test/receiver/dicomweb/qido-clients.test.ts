import * as DICOMwebClientLib from 'dicomweb-client';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patientKey } from '../../../src/shared/patient-key.js';
import { bearer, http } from '../receiver-harness.js';
import { expectDicomJsonStudy } from './dicom-json-shape.js';
import { startOrthancDicomWebClient, type OrthancDicomWebClient } from './orthanc-dicomweb.js';
import { auditSince, expectedOrder, keysOf, lastAuditId, seed, type DicomJson, type Seeded } from './qido-fixtures.js';

/**
 * Acceptance with clients nobody here wrote: dicomweb-client (what OHIF is built on), the exact
 * query URLs OHIF's study list sends, and Orthanc's DICOMweb plugin querying through the receiver.
 */
let s: Seeded;
let orthanc: OrthancDicomWebClient;

beforeAll(async () => {
  s = await seed('rx_qido_clients');
  // dicomweb-client is built on XMLHttpRequest, which Node does not have.
  // (xhr2 ships no types: loaded through require.)
  (globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest = createRequire(import.meta.url)('xhr2') as unknown;
  const url = `${s.rx.base}/dicom-web/`;
  orthanc = await startOrthancDicomWebClient({
    central: { Url: url, HttpHeaders: { Authorization: `Bearer ${s.token}` }, Timeout: 10 },
    basic: { Url: url, Username: 'orthanc', Password: s.token, Timeout: 10 },
    wrong: { Url: url, HttpHeaders: { Authorization: 'Bearer not-a-valid-token-0123' }, Timeout: 10 },
  });
});
afterAll(async () => {
  await orthanc?.stop();
  await s?.rx.close();
});

const isRut = (rut: string) => (f: { patient_id: string | null }) => patientKey(f.patient_id) === rut;

describe('dicomweb-client', () => {
  const client = () => new DICOMwebClientLib.api.DICOMwebClient({ url: `${s.rx.base}/dicom-web`, headers: bearer(s.token), verbose: false, singlepart: false });

  it('searchForStudies with filters', async () => {
    const studies = (await client().searchForStudies({ queryParams: { PatientID: '12.345.678-5' } })) as DicomJson[];
    expect(keysOf(studies)).toEqual(expectedOrder(s, isRut('12345678-5')));
    studies.forEach(expectDicomJsonStudy);
    const ct = (await client().searchForStudies({ queryParams: { ModalitiesInStudy: 'CT', StudyDate: '20210101-20211231', PatientName: 'PÉREZ*' } })) as DicomJson[];
    expect(keysOf(ct)).toEqual(expectedOrder(s, (f) => f.modalities.includes('CT') && (f.study_datetime ?? '').startsWith('2021')
      && /^P[EÉ]REZ/i.test(f.patient_name ?? '')));
    expect(ct.length).toBeGreaterThan(0);
  });

  it('nothing found: [] (not an error)', async () => {
    expect(await client().searchForStudies({ queryParams: { PatientID: '99999999-9' } })).toEqual([]);
  });

  it('pages through every match with limit and offset', async () => {
    const want = expectedOrder(s, () => true);
    const got: string[] = [];
    for (let offset = 0; offset < 200; offset += 9) {
      const page = (await client().searchForStudies({ queryParams: { limit: '9', offset: String(offset) } })) as DicomJson[];
      got.push(...keysOf(page));
      if (page.length < 9) break;
    }
    expect(got).toEqual(want);
  });

  it('a refusal rejects with its status', async () => {
    const anonymous = new DICOMwebClientLib.api.DICOMwebClient({ url: `${s.rx.base}/dicom-web`, verbose: false, singlepart: false });
    await expect(anonymous.searchForStudies({ queryParams: { PatientID: '1' } })).rejects.toMatchObject({ status: 401 });
    await expect(client().searchForStudies({ queryParams: { StudyDate: '20219999' } })).rejects.toMatchObject({ status: 400 });
    await expect(client().searchForSeries({ studyInstanceUID: '1.2.826.0.1.0' })).rejects.toMatchObject({ status: 404 });
  });
});

describe("OHIF's study list", () => {
  // The URL shapes OHIF's DicomWebDataSource (qido.js mapParams) sends through dicomweb-client.
  const INCLUDE = 'includefield=00081030%2C00080060%2C00080090%2C00100030';
  const today = new Date();
  const TODAY = `${today.getFullYear()}${String(today.getMonth() + 1).padStart(2, '0')}${String(today.getDate()).padStart(2, '0')}`;
  const date = (f: { study_datetime: string | null }) => f.study_datetime?.slice(0, 10).replace(/-/g, '') ?? null;
  const URLS: [string, (f: Parameters<Parameters<typeof expectedOrder>[1]>[0]) => boolean][] = [
    [`limit=101&offset=0&fuzzymatching=false&${INCLUDE}`, () => true],
    [`PatientName=*perez*&limit=101&offset=0&fuzzymatching=false&${INCLUDE}`, (f) => /p[eé]rez/i.test((f.patient_name ?? '').split('=')[0]!)],
    [`PatientName=*Mar%C3%ADa*&limit=101&offset=0&fuzzymatching=false&${INCLUDE}`, (f) => /mar[ií]a/i.test(f.patient_name ?? '')],
    [`00100020=*345*&limit=101&offset=0&fuzzymatching=false&${INCLUDE}`, (f) => (f.patient_id ?? '').includes('345')],
    [`AccessionNumber=*ACC-3*&limit=101&offset=0&fuzzymatching=false&${INCLUDE}`, (f) => f.accession_no === 'ACC-3'],
    [`StudyDescription=*torax*&limit=101&offset=0&fuzzymatching=false&${INCLUDE}`, (f) => /t[oó]rax/i.test(f.study_description ?? '')],
    [`ModalitiesInStudy=CT&limit=101&offset=0&fuzzymatching=false&${INCLUDE}`, (f) => f.modalities.includes('CT')],
    [`limit=101&offset=0&fuzzymatching=false&${INCLUDE}&StudyDate=20210301-20210315`, (f) => (date(f) ?? '0') >= '20210301' && (date(f) ?? '9') <= '20210315'],
    [`limit=101&offset=0&fuzzymatching=false&${INCLUDE}&StudyDate=19700102-20201231`, (f) => (date(f) ?? '0') >= '19700102' && (date(f) ?? '9') <= '20201231'],
    [`limit=101&offset=0&fuzzymatching=false&${INCLUDE}&StudyDate=20210301-${TODAY}`, (f) => (date(f) ?? '0') >= '20210301'],
    [`limit=101&offset=0&fuzzymatching=false&${INCLUDE}&StudyInstanceUID=1.2.826.0.1.0%5C1.2.826.0.1.3`, (f) => ['1.2.826.0.1.0', '1.2.826.0.1.3'].includes(f.study_iuid)],
    [`PatientName=*perez*&ModalitiesInStudy=CT&limit=101&offset=0&fuzzymatching=true&${INCLUDE}&StudyDate=19700102-${TODAY}`,
      (f) => /p[eé]rez/i.test((f.patient_name ?? '').split('=')[0]!) && f.modalities.includes('CT') && date(f) !== null],
  ];

  it.each(URLS)('/studies?%s', async (query, keep) => {
    const r = await http(s.rx.base, 'GET', `/dicom-web/studies?${query}`, { headers: { ...bearer(s.token), accept: 'application/dicom+json' } });
    expect(r.status, r.text).toBe(200);
    expect(keysOf(r.json)).toEqual(expectedOrder(s, keep));
    expect(r.json.length).toBeGreaterThan(0);
    if (query.includes('fuzzymatching=true')) expect(r.headers.warning).toContain('fuzzymatching');
    else expect(r.headers.warning).toBeUndefined();
    // What OHIF's processResults reads, including the included StudyDescription.
    for (const study of r.json as DicomJson[]) {
      expectDicomJsonStudy(study);
      for (const tag of ['0020000D', '00080020', '00080030', '00080050', '00100020', '00100010', '00100030', '00201208', '00081030', '00080061', '00080090']) {
        expect(study[tag], tag).toBeDefined();
      }
    }
  });
});

describe("Orthanc's DICOMweb plugin querying through the receiver", () => {
  const studies = (body: string) => JSON.parse(body) as DicomJson[];

  it('Bearer in HttpHeaders: a RUT search, in a spelling other than the stored ones', async () => {
    const r = await orthanc.get('central', '/studies', { PatientID: '123456785' });
    expect(r.status, `${r.body.slice(0, 300)}\n${orthanc.log.slice(-1500)}`).toBe(200);
    expect(keysOf(studies(r.body))).toEqual(expectedOrder(s, isRut('12345678-5')));
    studies(r.body).forEach(expectDicomJsonStudy);
  });

  it('HTTP Basic (Username/Password, the token as password)', async () => {
    const since = await lastAuditId(s.rx);
    const r = await orthanc.get('basic', '/studies', { PatientName: 'MUÑOZ*', includefield: 'StudyDescription' });
    expect(r.status, r.body.slice(0, 300)).toBe(200);
    const got = studies(r.body);
    expect(keysOf(got)).toEqual(expectedOrder(s, (f) => /^MU[ÑN]OZ\^/i.test(f.patient_name ?? '')));
    expect(got.length).toBeGreaterThan(1);
    expect(got.every((x) => '00081030' in x)).toBe(true);
    const audit = await auditSince(s.rx, since);
    expect(audit.map((a) => [a.token_name, a.route, a.status, a.result_count])).toEqual([['central', 'GET /dicom-web/studies', 200, got.length]]);
  });

  it('date ranges, modalities, paging and the private centre key', async () => {
    const r = await orthanc.get('central', '/studies', { StudyDate: '20210301-20210315', ModalitiesInStudy: 'CT\\MR', limit: '3', offset: '1' });
    expect(r.status, r.body.slice(0, 300)).toBe(200);
    const want = expectedOrder(s, (f) => f.study_datetime !== null && f.study_datetime.slice(0, 10) >= '2021-03-01' && f.study_datetime.slice(0, 10) <= '2021-03-15'
      && f.modalities.some((m) => m === 'CT' || m === 'MR'));
    expect(keysOf(studies(r.body))).toEqual(want.slice(1, 4));
    const c1 = await orthanc.get('central', '/studies', { '00091001': 'C1', limit: '1000' });
    const c1Studies = studies(c1.body);
    expect(keysOf(c1Studies)).toEqual(expectedOrder(s, (f) => f.center === 'C1'));
    expect(c1Studies.every((x) => String(x['00081190']?.Value?.[0]).startsWith('https://pacs.c1.example.cl/dicom-web/studies/'))).toBe(true);
  });

  it('nothing found: Orthanc relays []', async () => {
    const r = await orthanc.get('central', '/studies', { PatientID: '99999999-9' });
    expect(r.status, r.body.slice(0, 300)).toBe(200);
    expect(studies(r.body)).toEqual([]);
  });

  it('a wrong token and a series query are refused through Orthanc too (and audited when authenticated)', async () => {
    const wrong = await orthanc.get('wrong', '/studies', { PatientID: '123456785' });
    expect(wrong.status).toBe(401);
    const since = await lastAuditId(s.rx);
    const series = await orthanc.get('central', '/studies/1.2.826.0.1.0/series');
    expect(series.status).toBe(404);
    const audit = await auditSince(s.rx, since);
    expect(audit.map((a) => [a.route, a.status, JSON.parse(a.parameters).params])).toEqual([['GET /dicom-web/studies/:uid/*', 404, { uid: '1.2.826.0.1.0', '*': 'series' }]]);
  });
});
