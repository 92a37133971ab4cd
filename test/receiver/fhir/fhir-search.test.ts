import { Client } from 'fhir-kit-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRut } from '../../../src/shared/patient-key.js';
import { addToken, bearer, http, startReceiver, type Receiver } from '../../helpers/receiver-harness.js';
import { DICOMWEB_BASE, expected, FHIR_CT, keyOf, seedIndex, walk, type Filter, type Seeded } from './fhir-fixtures.js';
import { expectValidFhir } from './fhir-validator.js';

/**
 * GET /fhir/ImagingStudy over real HTTP on a realistic seeded index: every search parameter and
 * modifier against the reference model, paging to the end, the mapping of every element, the same
 * results as /api/v2 for the same filters, and fhir-kit-client walking the next links.
 */
let rx: Receiver;
let token: string;
let seeded: Seeded;

beforeAll(async () => {
  rx = await startReceiver('rx_fhir_search');
  token = await addToken(rx.store, 'ehr');
  seeded = await seedIndex(rx);
});
afterAll(async () => {
  await rx?.close();
});

const RUN = 'http://regcivil.cl/Validacion/RUN';
const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const ACSN = 'http://terminology.hl7.org/CodeSystem/v2-0203|ACSN';
const q = (params: Record<string, string | string[]>): string => {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const x of [v].flat()) u.append(k, x);
  return u.toString();
};

/** Every page of the search, and each page's total equal to what was walked. */
async function all(params: Record<string, string | string[]>, count = 7): Promise<string[]> {
  const { keys, totals } = await walk(rx, token, q({ ...params, _count: String(count) }));
  for (const t of totals) expect(t).toBe(keys.length);
  return keys;
}

async function v2(params: Record<string, string>): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | null = null;
  do {
    const r = await http(rx.base, 'GET', `/api/v2/studies?${new URLSearchParams({ ...params, limit: '9', ...(cursor ? { cursor } : {}) })}`, { headers: bearer(token) });
    expect(r.status).toBe(200);
    out.push(...r.json.items.map((i: { center: string; study_iuid: string }) => `${i.center}/${i.study_iuid}`));
    cursor = r.json.next_cursor;
  } while (cursor);
  return out;
}

const CASES: [Record<string, string | string[]>, Filter][] = [
  [{}, {}],
  [{ identifier: 'urn:dicom:uid|urn:oid:1.2.826.0.1.1' }, { uids: ['1.2.826.0.1.1'] }],
  [{ identifier: 'urn:dicom:uid|1.2.826.0.1.2,urn:dicom:uid|1.2.826.0.1.3' }, { uids: ['1.2.826.0.1.2', '1.2.826.0.1.3'] }],
  [{ identifier: '1.2.826.0.1.4' }, { uids: ['1.2.826.0.1.4'] }],
  [{ identifier: 'urn:dicom:uid|1.2.826.0.1.6' }, { uids: ['1.2.826.0.1.6'] }], // a tombstone: never found
  [{ identifier: ['1.2.826.0.1.2,1.2.826.0.1.3', '1.2.826.0.1.3,1.2.826.0.1.5'] }, { uids: ['1.2.826.0.1.3'] }],
  [{ 'identifier:of-type': `${ACSN}|ACC-0` }, { accession: 'ACC-0' }],
  [{ 'identifier:of-type': `${ACSN}|acc-1` }, { accession: 'ACC-1' }],
  [{ identifier: 'urn:pacs-indexer:center:C2:accession|ACC-0' }, { accession: 'ACC-0', centers: ['C2'] }],
  [{ identifier: 'ACC-2' }, { accession: 'ACC-2' }],
  [{ 'patient:identifier': `${RUN}|12.345.678-5` }, { patientKey: '12345678-5' }],
  [{ 'patient:identifier': `${RUN}|123456785` }, { patientKey: '12345678-5' }],
  [{ 'subject:identifier': '12345678-5' }, { patientKey: '12345678-5' }],
  [{ 'patient.identifier': '|12667869-K' }, { patientKey: '12667869-K' }],
  [{ 'subject:Patient.identifier': '3.705.779-7' }, { patientKey: '3705779-7' }],
  // A centre's own system names one id as stored: abc-1 is not ABC-1 there (a bare value is any spelling).
  [{ 'patient:identifier': 'urn:pacs-indexer:center:C1:patient-id|abc-1' }, { patientKey: 'ABC-1', patientId: 'abc-1', centers: ['C1'] }],
  [{ 'patient:identifier': 'urn:pacs-indexer:center:C1:patient-id|ABC-1' }, { patientKey: 'ABC-1', patientId: 'ABC-1', centers: ['C1'] }],
  [{ 'patient:identifier': 'abc-1' }, { patientKey: 'ABC-1' }],
  [{ 'patient:identifier': 'mrn-000123' }, { patientKey: 'MRN-000123' }],
  [{ 'patient:identifier': 'urn:pacs-indexer:center:C2:patient-id|12345678-9' }, { patientKey: '12345678-9', centers: ['C2'] }],
  [{ started: '2021-03-01' }, { from: '2021-03-01', to: '2021-03-01' }],
  [{ started: '2021-03' }, { from: '2021-03-01', to: '2021-03-31' }],
  [{ started: 'eq2021' }, { from: '2021-01-01', to: '2021-12-31' }],
  [{ started: 'ge2021-03-01' }, { from: '2021-03-01' }],
  [{ started: 'gt2021-03-01' }, { from: '2021-03-02' }],
  [{ started: 'le2021-02-28' }, { to: '2021-02-28' }],
  [{ started: 'lt2021-03-01' }, { to: '2021-02-28' }],
  [{ started: ['ge2020', 'lt2021-12'] }, { from: '2020-01-01', to: '2021-11-30' }],
  [{ started: 'gt2021-03-01T10:00:00-03:00' }, { from: '2021-03-01' }],
  [{ modality: 'CT' }, { modalities: ['CT'] }],
  [{ modality: `${DCM}|sr` }, { modalities: ['SR'] }],
  [{ modality: 'MR,DX' }, { modalities: ['MR', 'DX'] }],
  [{ center: 'C3' }, { centers: ['C3'] }],
  [{ center: 'urn:pacs-indexer:center|C1,C2' }, { centers: ['C1', 'C2'] }],
  [{ modality: 'CT', started: 'ge2021-01-01', center: 'C1' }, { modalities: ['CT'], from: '2021-01-01', centers: ['C1'] }],
  [{ 'patient:identifier': '12.345.678-5', modality: 'CT,MR,US,SR' }, { patientKey: '12345678-5', modalities: ['CT', 'MR', 'US', 'SR'] }],
];

describe('every search parameter against the reference model, walked to the last page', () => {
  it.each(CASES.map(([p, f]) => [JSON.stringify(p), p, f] as const))('%s', async (_name, params, filter) => {
    const want = expected(seeded, filter);
    expect(await all(params)).toEqual(want);
    // page size does not change the answer
    expect(await all(params, 50)).toEqual(want);
  });

  it('the fixtures exercise what they claim (so the cases above mean something)', () => {
    expect(expected(seeded, { patientKey: '12345678-5' }).length).toBeGreaterThan(10);
    expect(new Set(expected(seeded, { patientKey: '12345678-5' }).map((k) => k.split('/')[0])).size).toBe(3);
    expect(expected(seeded, { uids: ['1.2.826.0.1.1'] })).toHaveLength(2);
    expect(expected(seeded, { accession: 'ACC-0' }).length).toBeGreaterThan(2);
    for (const id of ['abc-1', 'ABC-1']) expect(expected(seeded, { patientId: id, centers: ['C1'] }).length, id).toBeGreaterThan(0);
    expect(expected(seeded, {}).length).toBeLessThan(seeded.data.length); // tombstones left out
    expect(seeded.data.some((f) => f.study_datetime === null && !f.deleted)).toBe(true);
  });
});

describe('searches that can match nothing', () => {
  it.each<Record<string, string | string[]>>([
    { identifier: 'http://example.org/ids|1.2.826.0.1.1' },
    { 'patient:identifier': `${RUN}|12345678-9` },
    { 'patient:identifier': 'urn:oid:2.16.152|12345678-5' },
    { started: ['ge2022-06', 'le2021'] },
    { started: 'gt9999-12-31' },
    { modality: 'http://example.org|CT' },
    { center: 'C9' },
    { 'identifier:of-type': 'http://terminology.hl7.org/CodeSystem/v2-0203|MR|ACC-0' },
    { identifier: ['ACC-0', 'ACC-1'] },
    { identifier: ['1.2.826.0.1.2', '1.2.826.0.1.3'] },
    { center: 'C1', identifier: 'urn:pacs-indexer:center:C2:accession|ACC-0' },
  ])('%j → an empty Bundle with total 0', async (params) => {
    const r = await http(rx.base, 'GET', `/fhir/ImagingStudy?${q(params)}`, { headers: bearer(token) });
    expect(r.status).toBe(200);
    expectValidFhir(r.json);
    expect(r.json.total).toBe(0);
    expect(r.json.entry).toBeUndefined();
  });
});

describe('the same results as /api/v2 for the same filters', () => {
  it('a patient, by a RUT written three ways', async () => {
    const api = await v2({ patient_id: '12.345.678-5' });
    expect(api.length).toBeGreaterThan(10);
    const spellings: Record<string, string>[] = [
      { 'patient:identifier': `${RUN}|12.345.678-5` }, { 'subject:identifier': '12345678-5' }, { 'patient.identifier': '123456785' },
    ];
    for (const params of spellings) expect(await all(params, 4), JSON.stringify(params)).toEqual(api);
    expect(await v2({ patient_id: '123456785' })).toEqual(api);
  });

  it('a centre and a date range', async () => {
    const api = await v2({ center: 'C2', from: '2021-01-01', to: '2021-12-31' });
    expect(api.length).toBeGreaterThan(3);
    expect(await all({ center: 'C2', started: ['ge2021-01-01', 'le2021-12-31'] }, 3)).toEqual(api);
    expect(await all({ center: 'C2', started: '2021' }, 3)).toEqual(api);
  });

  it('a modality and a date', async () => {
    const api = await v2({ modality: 'CT', from: '2021-03-01' });
    expect(api.length).toBeGreaterThan(3);
    expect(await all({ modality: 'CT', started: 'ge2021-03-01' }, 2)).toEqual(api);
  });

  it('an accession number (any centre, case-insensitive like the JSON API)', async () => {
    for (const acc of ['ACC-0', 'acc-1']) {
      const api = await v2({ accession_no: acc });
      expect(api.length).toBeGreaterThan(1);
      expect(await all({ 'identifier:of-type': `${ACSN}|${acc}` }, 2)).toEqual(api);
    }
  });

  it('everything (no filter)', async () => {
    expect(await all({}, 25)).toEqual(await v2({}));
  });
});

describe('mapping of every element, search and read alike', () => {
  it('each resource says what /api/v2 stores, as the standard expects', async () => {
    const { keys } = await walk(rx, token, '_count=100');
    expect(keys.length).toBe(expected(seeded, {}).length);
    const r = await http(rx.base, 'GET', '/fhir/ImagingStudy?_count=100', { headers: bearer(token) });
    const records = new Map<string, Record<string, unknown>>();
    for (const item of (await http(rx.base, 'GET', '/api/v2/studies?limit=1000', { headers: bearer(token) })).json.items) {
      records.set(`${item.center}/${item.study_iuid}`, item);
    }
    let withEndpoint = 0;
    for (const entry of r.json.entry) {
      const res = entry.resource;
      const rec = records.get(keyOf(res))! as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      expect(entry.fullUrl).toBe(`${rx.base}/fhir/ImagingStudy/${res.id}`);
      expect(res.id).toBe(String(seeded.ids.get(keyOf(res))));
      expect(res.status).toBe('available');
      expect(res.identifier[0]).toEqual({ system: 'urn:dicom:uid', value: `urn:oid:${rec.study_iuid}` });
      if (rec.accession_no) {
        expect(res.identifier[1]).toEqual({
          type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'ACSN' }] },
          system: `urn:pacs-indexer:center:${rec.center}:accession`, value: rec.accession_no,
        });
      } else {
        expect(res.identifier).toHaveLength(1);
      }
      expect(res.started).toBe(rec.study_datetime === null ? undefined : rec.study_datetime.slice(0, 10));
      expect(res.modality?.map((m: { code: string }) => m.code) ?? []).toEqual(rec.modalities);
      for (const m of res.modality ?? []) expect(m.system).toBe(DCM);
      expect(res.numberOfSeries).toBe(rec.study_series);
      expect(res.numberOfInstances).toBe(rec.study_instances);
      expect(res.description).toBe(rec.study_description === null ? undefined : rec.study_description.replace(/\u00a0/g, ' '));
      expect(res.referrer).toEqual(rec.referring_physician === null ? undefined : { display: rec.referring_physician.replace(/\^/g, ' ') });
      expect(res.location.identifier).toEqual({ system: 'urn:pacs-indexer:center', value: rec.center });
      const pid = rec.patient_id === null ? '' : String(rec.patient_id).trim();
      if (pid === '') expect(res.subject).toEqual({ display: 'unidentified patient' });
      else if (parseRut(pid)) expect(res.subject).toEqual({ identifier: { system: RUN, value: parseRut(pid) } });
      else expect(res.subject).toEqual({ identifier: { system: `urn:pacs-indexer:center:${rec.center}:patient-id`, value: pid } });
      expect(JSON.stringify(res)).not.toMatch(/PÉREZ|perez|NÚÑEZ|HIGGINS/i); // no patient names
      if (rec.center === 'C1') {
        withEndpoint += 1;
        expect(res.contained[0].address).toBe(DICOMWEB_BASE);
        expect(res.endpoint).toEqual([{ reference: '#wado' }]);
      } else {
        expect(res.endpoint).toBeUndefined();
      }
      // read answers the same resource
      const read = await http(rx.base, 'GET', `/fhir/ImagingStudy/${res.id}`, { headers: bearer(token) });
      expect(read.status).toBe(200);
      expect(read.headers['content-type']).toBe(FHIR_CT);
      expect(read.json).toEqual(res);
      expectValidFhir(read.json);
    }
    expect(withEndpoint).toBeGreaterThan(0);
    expect(r.json.entry.some((e: { resource: { started?: string } }) => e.resource.started === undefined)).toBe(true);
    expect(r.json.entry.some((e: { resource: { subject: { display?: string } } }) => e.resource.subject.display === 'unidentified patient')).toBe(true);
    expect(r.json.entry.some((e: { resource: { modality?: unknown[] } }) => (e.resource.modality?.length ?? 0) >= 3)).toBe(true);
    expect(r.json.entry.some((e: { resource: { modality?: unknown[] } }) => e.resource.modality === undefined)).toBe(true);
    expect(r.json.entry.find((e: { resource: { location: { identifier: { value: string } } } }) => e.resource.location.identifier.value === 'C2').resource.location.display).toBe('Clínica Ñuñoa');
  });
});

describe('_count, _total, _summary, _sort and paging', () => {
  it('_count=0: the total and no entries; _summary=count the same', async () => {
    const want = expected(seeded, { modalities: ['CT'] }).length;
    for (const extra of ['_count=0', '_summary=count', '_summary=count&_total=none']) {
      const r = await http(rx.base, 'GET', `/fhir/ImagingStudy?modality=CT&${extra}`, { headers: bearer(token) });
      expect(r.status).toBe(200);
      expectValidFhir(r.json);
      expect(r.json.total, extra).toBe(want);
      expect(r.json.entry).toBeUndefined();
      expect(r.json.link.find((l: { relation: string }) => l.relation === 'next')).toBeUndefined();
    }
  });

  it('_total=none leaves total out; accurate and estimate count', async () => {
    const none = await walk(rx, token, 'modality=CT&_total=none&_count=4');
    expect(none.totals.every((t) => t === undefined)).toBe(true);
    expect(none.keys).toEqual(expected(seeded, { modalities: ['CT'] }));
    for (const mode of ['accurate', 'estimate']) {
      const r = await http(rx.base, 'GET', `/fhir/ImagingStudy?modality=CT&_total=${mode}&_count=1`, { headers: bearer(token) });
      expect(r.json.total).toBe(none.keys.length);
    }
  });

  it('_sort=-started is the natural order; other sorts are ignored (lenient) or refused (strict)', async () => {
    const natural = await all({ modality: 'CT' });
    expect(await all({ modality: 'CT', _sort: '-started' })).toEqual(natural);
    expect(await all({ modality: 'CT', _sort: 'started' })).toEqual(natural);
    const strict = await http(rx.base, 'GET', '/fhir/ImagingStudy?_sort=started', { headers: { ...bearer(token), prefer: 'handling=strict' } });
    expect(strict.status).toBe(400);
    expect(strict.json.issue[0].code).toBe('not-supported');
  });

  it('links: self as performed (with the page\'s cursor), next with the filters; the last page has no next', async () => {
    const first = await http(rx.base, 'GET', `/fhir/ImagingStudy?${q({ 'patient:identifier': '12.345.678-5', _count: '3' })}`, { headers: bearer(token) });
    const self = new URL(first.json.link[0].url);
    expect(first.json.link[0].relation).toBe('self');
    expect(self.pathname).toBe('/fhir/ImagingStudy');
    expect([...self.searchParams]).toEqual([['patient:identifier', '12.345.678-5'], ['_count', '3']]);
    const next = new URL(first.json.link[1].url);
    expect(first.json.link[1].relation).toBe('next');
    expect(next.searchParams.get('patient:identifier')).toBe('12.345.678-5');
    expect(next.searchParams.get('_count')).toBe('3');
    const second = await http(rx.base, 'GET', next.pathname + next.search, { headers: bearer(token) });
    expect(new URL(second.json.link[0].url).searchParams.get('_cursor')).toBe(next.searchParams.get('_cursor'));
    expect(second.json.entry.map((e: { resource: unknown }) => keyOf(e.resource))).toEqual(expected(seeded, { patientKey: '12345678-5' }).slice(3, 6));
  });

  it('an exact multiple of the page size ends without an empty page', async () => {
    const n = expected(seeded, { centers: ['C3'] }).length;
    const { keys, pages } = await walk(rx, token, `center=C3&_count=${n}`);
    expect(keys).toHaveLength(n);
    expect(pages).toBe(1);
  });
});

describe('lenient and strict handling of unknown parameters', () => {
  const unknown = ['_elements=id', '_id=1', 'foo=bar', '_include=ImagingStudy:patient'];
  // Refused under lenient handling too: an unsupported modifier or chain of a supported parameter
  // (R4: SHALL reject), and anything naming a patient or an identifier, whose loss would widen a
  // search for one patient to every patient.
  const widening = ['modality:not=CT', 'patient.name=perez', 'started:missing=true', 'patient:Identifier=12345678-5',
    'pateint.identifier=12345678-5', 'Subject:identifier=12345678-5', 'patient:identifier:exact=12345678-5', 'identifer=1.2.3'];

  it('a filter the server would have to drop is refused in both modes: 400 not-supported', async () => {
    for (const extra of widening) {
      for (const prefer of [undefined, 'handling=lenient', 'handling=strict']) {
        const r = await http(rx.base, 'GET', `/fhir/ImagingStudy?${extra}`, { headers: { ...bearer(token), ...(prefer ? { prefer } : {}) } });
        expect(r.status, `${extra} ${prefer}`).toBe(400);
        expect(r.json.issue[0].code).toBe('not-supported');
        expectValidFhir(r.json);
      }
    }
  });

  it('lenient (default, or Prefer: handling=lenient): ignored, and absent from the self link', async () => {
    const want = expected(seeded, { centers: ['C2'] });
    for (const extra of unknown) {
      for (const prefer of [undefined, 'handling=lenient']) {
        const { keys } = await walk(rx, token, `center=C2&${extra}&_count=50`, prefer ? { prefer } : {});
        expect(keys, extra).toEqual(want);
      }
      const r = await http(rx.base, 'GET', `/fhir/ImagingStudy?center=C2&${extra}`, { headers: bearer(token) });
      expect([...new URL(r.json.link[0].url).searchParams.keys()]).toEqual(['center']);
    }
  });

  it('Prefer: handling=strict (quoted or not): 400 not-supported naming the parameter', async () => {
    for (const [i, extra] of unknown.entries()) {
      const prefer = i % 2 === 0 ? 'return=minimal, handling=strict' : 'handling="strict"';
      const r = await http(rx.base, 'GET', `/fhir/ImagingStudy?center=C2&${extra}`, { headers: { ...bearer(token), prefer } });
      expect(r.status, extra).toBe(400);
      expect(r.headers['content-type']).toBe(FHIR_CT);
      expectValidFhir(r.json);
      expect(r.json.issue[0].code).toBe('not-supported');
      expect(r.json.issue[0].diagnostics).toContain(`"${decodeURIComponent(extra.split('=')[0]!)}"`);
    }
    const hidden = await http(rx.base, 'GET', '/fhir/ImagingStudy?12.345.678-5=x', { headers: { ...bearer(token), prefer: 'handling=strict' } });
    expect(hidden.status).toBe(400);
    expect(hidden.text).not.toContain('12.345.678');
    // strict with only supported parameters answers normally
    expect((await http(rx.base, 'GET', '/fhir/ImagingStudy?center=C2', { headers: { ...bearer(token), prefer: 'handling=strict' } })).status).toBe(200);
  });
});

describe('fhir-kit-client', () => {
  it('walks every page of a search with nextPage; the total equals what it walked', async () => {
    const client = new Client({ baseUrl: `${rx.base}/fhir`, customHeaders: { Authorization: `Bearer ${token}` } });
    const want = expected(seeded, { patientKey: '12345678-5' });
    const searches: Record<string, string | number>[] = [{ 'patient:identifier': `${RUN}|12.345.678-5`, _count: 4 }, { 'subject:identifier': '123456785', _count: 5 }];
    for (const searchParams of searches) {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      let bundle: any = await client.search({ resourceType: 'ImagingStudy', searchParams });
      const keys: string[] = [];
      let pages = 0;
      while (bundle) {
        pages += 1;
        expectValidFhir(bundle);
        expect(bundle.total).toBe(want.length);
        keys.push(...(bundle.entry ?? []).map((e: { resource: unknown }) => keyOf(e.resource)));
        bundle = await client.nextPage({ bundle });
      }
      expect(keys).toEqual(want);
      expect(pages).toBe(Math.ceil(want.length / Number(searchParams._count)));
    }
  });

  it('reads a resource and the CapabilityStatement', async () => {
    const client = new Client({ baseUrl: `${rx.base}/fhir`, customHeaders: { Authorization: `Bearer ${token}` } });
    const id = String(seeded.ids.get('C1/1.2.826.0.1.0'));
    const study = await client.read({ resourceType: 'ImagingStudy', id });
    expect(study).toMatchObject({ resourceType: 'ImagingStudy', id });
    const meta = await client.capabilityStatement();
    expect(meta).toMatchObject({ resourceType: 'CapabilityStatement', fhirVersion: '4.0.1' });
  });

  it('sees a refusal as an OperationOutcome', async () => {
    const client = new Client({ baseUrl: `${rx.base}/fhir`, customHeaders: { Authorization: `Bearer ${token}` } });
    const err = await client.read({ resourceType: 'ImagingStudy', id: '999999999' }).catch((e: unknown) => e);
    expect((err as { response: { status: number } }).response.status).toBe(404);
    expect((err as { response: { data: { resourceType: string } } }).response.data.resourceType).toBe('OperationOutcome');
  });
});
