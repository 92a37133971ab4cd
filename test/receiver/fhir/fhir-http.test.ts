import type { RowDataPacket } from 'mysql2/promise';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCenter, addToken, bearer, http, record, startReceiver, type Receiver } from '../../helpers/receiver-harness.js';
import { FHIR_CT, seedIndex, type Seeded } from './fhir-fixtures.js';
import { expectValidFhir } from './fhir-validator.js';

/**
 * The FHIR interface's HTTP surface: the CapabilityStatement, authentication and audit, read
 * (404, 410), content negotiation, links from RECEIVER_PUBLIC_URL, and hostile requests — every
 * refusal an OperationOutcome in application/fhir+json that names the parameter, quotes no value.
 */
let rx: Receiver;
let pub: Receiver;
let limited: Receiver;
let token: string;
let pubToken: string;
let limitedToken: string;
let seeded: Seeded;
const CENTRE_KEY = 'key-C1-0123456789abcdef'; // seedIndex's addCenter default for C1

beforeAll(async () => {
  rx = await startReceiver('rx_fhir_http');
  token = await addToken(rx.store, 'ehr');
  await addToken(rx.store, 'old', 'token-old-0123456789abcdef');
  await rx.store.access.revokeToken('old');
  seeded = await seedIndex(rx);
  pub = await startReceiver('rx_fhir_pub', { reads: { publicUrl: 'https://index.example.org/pacs', fhirDefaultCount: 2, fhirMaxCount: 3 } });
  pubToken = await addToken(pub.store, 'ehr');
  const key = await addCenter(pub.store, 'P1');
  const records = Array.from({ length: 5 }, (_, i) => record(`9.9.${i}`, 1, { patient_id: '12345678-5', study_datetime: `2022-01-0${i + 1}T10:00:00` }));
  expect((await http(pub.base, 'POST', '/api/v2/centers/P1/studies', { headers: bearer(key), json: { records } })).json.stored).toBe(5);
  limited = await startReceiver('rx_fhir_rate', { rateLimits: { perPrincipalPerSecond: 1 } });
  limitedToken = await addToken(limited.store, 'ehr');
});
afterAll(async () => {
  await rx?.close();
  await pub?.close();
  await limited?.close();
});

const get = (path: string, headers: Record<string, string> = bearer(token), base = rx.base) => http(base, 'GET', path, { headers });
const idOf = (key: string): string => String(seeded.ids.get(key));

/** An OperationOutcome refusal: status, issue code, FHIR content type, valid, and what its text must not quote. */
function expectOutcome(r: Awaited<ReturnType<typeof http>>, status: number, code: string, hidden: string[] = []): string {
  expect(r.status, r.text.slice(0, 300)).toBe(status);
  expect(r.headers['content-type']).toBe(FHIR_CT);
  expectValidFhir(r.json);
  expect(r.json.resourceType).toBe('OperationOutcome');
  expect(r.json.issue[0].code).toBe(code);
  for (const h of hidden) expect(r.text).not.toContain(h);
  return r.json.issue[0].diagnostics as string;
}

describe('GET /fhir/metadata', () => {
  it('a valid CapabilityStatement, without credentials', async () => {
    const r = await get('/fhir/metadata', {});
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe(FHIR_CT);
    expectValidFhir(r.json);
    expect(r.json).toMatchObject({ resourceType: 'CapabilityStatement', status: 'active', kind: 'instance', fhirVersion: '4.0.1', format: ['json'] });
    expect(r.json.implementation.url).toBe(`${rx.base}/fhir`);
    const resource = r.json.rest[0].resource[0];
    expect(resource.type).toBe('ImagingStudy');
    expect(resource.searchParam.map((p: { name: string; type: string }) => `${p.name}:${p.type}`))
      .toEqual(['identifier:token', 'patient:reference', 'subject:reference', 'started:date', 'modality:token', 'center:token']);
    expect(r.json.rest[0].security.description).toMatch(/Bearer.*Basic/s);
  });

  it('JSON only: xml by _format or Accept is 406', async () => {
    expectOutcome(await get('/fhir/metadata?_format=xml', {}), 406, 'not-supported');
    expectOutcome(await get('/fhir/metadata', { accept: 'application/fhir+xml' }), 406, 'not-supported');
    for (const headers of [{ accept: 'application/json' }, { accept: '*/*' }, { accept: 'application/fhir+json' }]) {
      expect((await get('/fhir/metadata', headers)).status).toBe(200);
    }
    expect((await get('/fhir/metadata?_format=application/fhir%2Bjson', { accept: 'application/fhir+xml' })).status).toBe(200);
    expect((await get('/fhir/metadata?_format=json', {})).status).toBe(200);
  });
});

describe('authentication and audit', () => {
  const paths = () => ['/fhir/ImagingStudy', `/fhir/ImagingStudy/${idOf('C1/1.2.826.0.1.0')}`];

  it('no credential: 401 login with WWW-Authenticate (Bearer and Basic)', async () => {
    for (const path of paths()) {
      const r = await get(path, {});
      expectOutcome(r, 401, 'login');
      expect(r.headers['www-authenticate']).toBe('Bearer realm="pacs-indexer", Basic realm="pacs-indexer"');
    }
  });

  it('a wrong or revoked token: 401; a centre key: 403 forbidden', async () => {
    for (const path of paths()) {
      expectOutcome(await get(path, bearer('not-a-token-0123456789abcdef')), 401, 'login');
      expectOutcome(await get(path, bearer('token-old-0123456789abcdef')), 401, 'login');
      expectOutcome(await get(path, bearer(CENTRE_KEY)), 403, 'forbidden');
    }
  });

  it('Basic (any user, the token as password) and X-Api-Key work like Bearer', async () => {
    const credentials: Record<string, string>[] = [
      { authorization: `Basic ${Buffer.from(`viewer:${token}`).toString('base64')}` },
      { authorization: `Basic ${Buffer.from(`:${token}`).toString('base64')}` },
      { 'x-api-key': token },
    ];
    for (const headers of credentials) {
      for (const path of paths()) expect((await get(path, headers)).status).toBe(200);
    }
  });

  it('audits every search and read, and refusals after authentication, with status and count', async () => {
    await rx.pool.query('DELETE FROM read_audit');
    const live = idOf('C1/1.2.826.0.1.0');
    const tomb = idOf('C1/1.2.826.0.1.6');
    await get('/fhir/ImagingStudy?center=C2&_count=3');
    await get(`/fhir/ImagingStudy/${live}`);
    await get('/fhir/ImagingStudy/999999999');
    await get(`/fhir/ImagingStudy/${tomb}`);
    await get('/fhir/ImagingStudy?started=2021-99-99');
    await get('/fhir/ImagingStudy', {}); // no principal: not a read
    const [rows] = await rx.pool.query<RowDataPacket[]>('SELECT token_name, route, parameters, result_count, status FROM read_audit ORDER BY id');
    expect(rows.map((r) => [r.token_name, r.route, Number(r.status), Number(r.result_count)])).toEqual([
      ['ehr', 'GET /fhir/ImagingStudy', 200, 3],
      ['ehr', 'GET /fhir/ImagingStudy/:id', 200, 1],
      ['ehr', 'GET /fhir/ImagingStudy/:id', 404, 0],
      ['ehr', 'GET /fhir/ImagingStudy/:id', 410, 0],
      ['ehr', 'GET /fhir/ImagingStudy', 400, 0],
    ]);
    expect(JSON.parse(String(rows[0]!.parameters)).query).toEqual({ center: 'C2', _count: '3' });
  });

  it('rate limited: 429 transient with Retry-After', async () => {
    const answers = [];
    for (let i = 0; i < 6; i += 1) answers.push(await get('/fhir/ImagingStudy', bearer(limitedToken), limited.base));
    const refused = answers.filter((a) => a.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    expectOutcome(refused[0]!, 429, 'transient');
    expect(Number(refused[0]!.headers['retry-after'])).toBeGreaterThan(0);
  });
});

describe('read', () => {
  it('unknown or malformed ids: 404 not-found, a malformed one never echoed', async () => {
    expect(expectOutcome(await get('/fhir/ImagingStudy/999999999'), 404, 'not-found')).toContain('999999999');
    for (const id of ['abc', '0', '01', '-1', '1.5', '99999999999999999999', '12.345.678-5', '%C3%91', 'X'.repeat(900)]) {
      expectOutcome(await get(`/fhir/ImagingStudy/${id}`), 404, 'not-found', [decodeURIComponent(id).slice(0, 20)].filter((s) => s.length > 2));
    }
  });

  it('a tombstone: 410 deleted', async () => {
    const tomb = seeded.data.find((f) => f.deleted)!;
    expectOutcome(await get(`/fhir/ImagingStudy/${idOf(`${tomb.center}/${tomb.study_iuid}`)}`), 410, 'deleted');
  });

  it('answers JSON for json Accept or _format, 406 for xml', async () => {
    const path = `/fhir/ImagingStudy/${idOf('C3/1.2.826.0.1.2')}`;
    for (const headers of [{ accept: 'application/json' }, { accept: '*/*' }, { accept: 'application/fhir+json;q=0.9, */*;q=0.1' }]) {
      const r = await get(path, { ...bearer(token), ...headers });
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toBe(FHIR_CT);
    }
    expectOutcome(await get(path, { ...bearer(token), accept: 'application/fhir+xml' }), 406, 'not-supported');
    expectOutcome(await get(`${path}?_format=xml`), 406, 'not-supported');
    expect((await get(`${path}?_format=json`, { ...bearer(token), accept: 'application/xml' })).status).toBe(200);
  });
});

describe('content negotiation on search', () => {
  it('fhir+json, json, */* or none served; only xml (or text) refused 406', async () => {
    for (const accept of ['application/fhir+json', 'application/json', '*/*', 'application/*', 'text/html,application/xhtml+xml,*/*;q=0.8']) {
      expect((await get('/fhir/ImagingStudy?_count=1', { ...bearer(token), accept })).status, accept).toBe(200);
    }
    for (const accept of ['application/fhir+xml', 'application/xml, text/xml', 'text/plain', 'application/fhir+json;q=0']) {
      expectOutcome(await get('/fhir/ImagingStudy', { ...bearer(token), accept }), 406, 'not-supported');
    }
    for (const f of ['xml', 'application/fhir%2Bxml', 'text/xml', 'html', 'json&_format=json']) {
      const r = await get(`/fhir/ImagingStudy?_format=${f}`);
      expect([400, 406]).toContain(r.status);
      expectOutcome(r, r.status, r.status === 406 ? 'not-supported' : 'invalid');
    }
    for (const f of ['json', 'application/json', 'application/fhir%2Bjson', 'application/fhir+json']) {
      const r = await get(`/fhir/ImagingStudy?_format=${f}&_count=1`, { ...bearer(token), accept: 'application/fhir+xml' });
      expect(r.status, f).toBe(200);
      expect(new URL(r.json.link[0].url).searchParams.get('_format')).toBeTruthy();
    }
  });
});

describe('hostile requests', () => {
  const KB8 = '1'.repeat(8192);

  it('8 KB values: 400 invalid, naming the parameter, never quoting the value', async () => {
    for (const name of ['identifier', 'patient:identifier', 'subject.identifier', 'started', 'modality', 'center', 'identifier:of-type']) {
      const r = await get(`/fhir/ImagingStudy?${encodeURIComponent(name)}=${KB8}`);
      expect(expectOutcome(r, 400, 'invalid', ['1111111111'])).toContain(`"${name}"`);
    }
    // a digits-only _count is capped, whatever its length
    const capped = await get(`/fhir/ImagingStudy?_count=${KB8}`);
    expect(capped.status).toBe(200);
    expect(new URL(capped.json.link[0].url).searchParams.get('_count')).toBe('1000');
    // an unknown parameter: ignored (lenient), refused without its value (strict)
    expect((await get(`/fhir/ImagingStudy?foo=${KB8}&_count=1`)).status).toBe(200);
    expectOutcome(await get(`/fhir/ImagingStudy?foo=${KB8}`, { ...bearer(token), prefer: 'handling=strict' }), 400, 'not-supported', ['1111111111']);
  });

  it('NUL and bad percent-encoding: 400 as an OperationOutcome', async () => {
    for (const path of ['/fhir/ImagingStudy?identifier=%00', '/fhir/ImagingStudy?patient:identifier=12345678-5%00', '/fhir/ImagingStudy?fo%00o=1',
      '/fhir/ImagingStudy?patient:identifier=%E0%A4%A', '/fhir/ImagingStudy?modality=%FF%FE']) {
      expectOutcome(await get(path), 400, 'invalid', ['12345678-5']);
    }
    // A bad encoding in the path is refused before routing, in FHIR's form all the same.
    expectOutcome(await get('/fhir/ImagingStudy/%E0%A4%A'), 400, 'invalid', []);
  });

  it('repeated result parameters, garbage _count, absurd dates, forged cursors: 400 naming the parameter', async () => {
    const forged = [
      'garbage', Buffer.from(JSON.stringify(['2023-99-99 99:99:99', 1])).toString('base64url'), Buffer.from('[1,2,3]').toString('base64url'),
      Buffer.from(JSON.stringify(['2023-01-01 00:00:00', -5])).toString('base64url'), 'A'.repeat(5000),
    ].map((c) => [`_cursor=${c}`, '_cursor'] as const);
    const cases: (readonly [string, string])[] = [
      ['_count=1&_count=2', '_count'], ['_total=none&_total=none', '_total'], ['_sort=-started&_sort=-started', '_sort'], ['_summary=count&_summary=count', '_summary'],
      ...['1e3', '-1', '%2B5', '%205', '0x10', '', '5.0', 'ten'].map((v) => [`_count=${v}`, '_count'] as const),
      ...['2021-99-99', 'ge99999', '2021-02-30', 'le2021-13', 'today', 'gt', '2021-03-01T25:00'].map((v) => [`started=${v}`, 'started'] as const),
      ['_total=all', '_total'], ['_summary=everything', '_summary'],
      ...forged,
    ];
    for (const [query, name] of cases) {
      const r = await get(`/fhir/ImagingStudy?${query}`);
      expect(expectOutcome(r, 400, 'invalid', query.length > 30 ? [query.slice(-20)] : []), query).toContain(`"${name}"`);
    }
  });

  it('what the index cannot answer is 400 not-supported, saying what to do', async () => {
    const cases: [string, RegExp][] = [
      ['patient=Patient/123', /patient:identifier=/], ['subject=Patient/1', /subject:identifier=/],
      ['patient:identifier=12345678-5,12667869-K', /separately/], ['started=ne2021', /"ne"/], ['started=2021,2022', /repeat/],
      ['identifier=1.2.3,ACC-0', /separate/], ['modality=CT&modality=MR', /comma/],
    ];
    for (const [query, hint] of cases) {
      const r = await get(`/fhir/ImagingStudy?${query}`);
      expect(expectOutcome(r, 400, 'not-supported', ['12345678-5', 'Patient/123']), query).toMatch(hint);
    }
  });

  it('other methods: 405; other resource types and interactions: 404 — unread, as OperationOutcomes', async () => {
    for (const [method, path] of [['POST', '/fhir/ImagingStudy'], ['POST', '/fhir/ImagingStudy/_search'], ['POST', '/fhir/metadata']] as const) {
      expectOutcome(await http(rx.base, method, path, { headers: bearer(token), json: { resourceType: 'ImagingStudy' } }), 405, 'not-supported');
    }
    expectOutcome(await http(rx.base, 'POST', '/fhir/ImagingStudy', { body: 'x'.repeat(100_000), headers: { 'content-type': 'application/fhir+json' } }), 405, 'not-supported');
    expect(expectOutcome(await get('/fhir/Patient'), 404, 'not-found')).toContain('Patient');
    expectOutcome(await get('/fhir/Patient/12345678-5', {}), 404, 'not-found', ['12345678-5']);
    expectOutcome(await get(`/fhir/ImagingStudy/${idOf('C1/1.2.826.0.1.0')}/_history/1`), 404, 'not-found');
    expectOutcome(await get('/fhir/'), 404, 'not-found');
    expectOutcome(await get('/fhir'), 404, 'not-found');
    expectOutcome(await get('/fhir/metadata/x'), 404, 'not-found');
    for (const [method, path] of [['PUT', '/fhir/ImagingStudy/1'], ['DELETE', '/fhir/ImagingStudy/1'], ['PATCH', '/fhir/ImagingStudy/1'], ['OPTIONS', '/fhir/ImagingStudy']] as const) {
      const res = await request(`${rx.base}${path}`, { method, headers: bearer(token) });
      const text = await res.body.text();
      expect(res.statusCode, `${method} ${path}`).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD');
      expect(res.headers['content-type']).toBe(FHIR_CT);
      expect(JSON.parse(text).issue[0].code).toBe('not-supported');
    }
    expectOutcome(await get('/fhir/12.345.678-5'), 404, 'not-found', ['12.345.678-5']);
  });

  it('a Host that is not host[:port] cannot make links: 400; X-Forwarded-Host is not trusted without RECEIVER_TRUST_PROXY', async () => {
    const forwarded = await get('/fhir/ImagingStudy?_count=1', { ...bearer(token), 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' });
    expect(forwarded.json.link[0].url.startsWith(`${rx.base}/fhir/ImagingStudy`)).toBe(true);
    expect(forwarded.json.entry[0].fullUrl.startsWith(`${rx.base}/`)).toBe(true);
    const badHost = await get('/fhir/ImagingStudy?_count=1', { ...bearer(token), host: 'evil.example/x y' });
    expectOutcome(badHost, 400, 'invalid', ['evil']);
  });

  it('logs carry no patient identifiers', async () => {
    await get('/fhir/ImagingStudy?patient:identifier=http://regcivil.cl/Validacion/RUN|12.667.869-k');
    await get('/fhir/ImagingStudy?patient:identifier=12.667.869-k,3.705.779-7');
    const log = rx.logLines.join('\n');
    expect(log).toContain('/fhir/ImagingStudy');
    expect(log).not.toMatch(/12\.667\.869|12667869|3\.705\.779|3705779/);
  });
});

describe('RECEIVER_PUBLIC_URL and the configured page sizes', () => {
  it('links and fullUrls start at the public URL; default and maximum _count apply', async () => {
    const r = await get('/fhir/ImagingStudy', bearer(pubToken), pub.base);
    expectValidFhir(r.json);
    expect(r.json.entry).toHaveLength(2);
    expect(r.json.total).toBe(5);
    expect(r.json.link[0].url).toBe('https://index.example.org/pacs/fhir/ImagingStudy');
    expect(r.json.link[1].url).toMatch(/^https:\/\/index\.example\.org\/pacs\/fhir\/ImagingStudy\?_count=2&_cursor=/);
    expect(r.json.entry[0].fullUrl).toMatch(/^https:\/\/index\.example\.org\/pacs\/fhir\/ImagingStudy\/\d+$/);
    const capped = await get('/fhir/ImagingStudy?_count=10', bearer(pubToken), pub.base);
    expect(capped.json.entry).toHaveLength(3);
    expect(capped.json.link[0].url).toBe('https://index.example.org/pacs/fhir/ImagingStudy?_count=3');
    expect((await get('/fhir/metadata', {}, pub.base)).json.implementation.url).toBe('https://index.example.org/pacs/fhir');
  });

  it('OpenAPI lists the FHIR routes with summaries and the search parameters', async () => {
    const doc = (await get('/openapi.json', {})).json;
    for (const path of ['/fhir/metadata', '/fhir/ImagingStudy', '/fhir/ImagingStudy/{id}']) {
      expect(doc.paths[path]?.get?.summary, path).toMatch(/FHIR/);
    }
    const names = doc.paths['/fhir/ImagingStudy'].get.parameters.map((p: { name: string }) => p.name);
    for (const n of ['identifier', 'patient:identifier', 'started', 'modality', '_count', '_cursor']) expect(names).toContain(n);
  });

  it('a failing database: 500 exception that says nothing internal', async () => {
    await pub.pool.query('RENAME TABLE studies TO studies_gone');
    try {
      for (const path of ['/fhir/ImagingStudy', '/fhir/ImagingStudy/1']) {
        const diagnostics = expectOutcome(await get(path, bearer(pubToken), pub.base), 500, 'exception', ['studies', 'SELECT', 'ER_']);
        expect(diagnostics).toBe('internal error');
      }
    } finally {
      await pub.pool.query('RENAME TABLE studies_gone TO studies');
    }
  });
});
