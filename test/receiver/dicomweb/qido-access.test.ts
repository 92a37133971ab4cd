import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addToken, bearer, http } from '../receiver-harness.js';
import { expectDicomJsonStudy } from './dicom-json-shape.js';
import { auditSince, expectedOrder, keysOf, lastAuditId, qido, seed, type Seeded } from './qido-fixtures.js';

/** Who may search (Bearer, Basic with the token as password), what is audited, and hostile queries. */
let s: Seeded;

beforeAll(async () => {
  s = await seed('rx_qido_access');
});
afterAll(async () => {
  await s?.rx.close();
});

const CHALLENGE = 'Basic realm="pacs-indexer", Bearer realm="pacs-indexer"';
const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
const get = (path: string, headers: Record<string, string> = {}) => http(s.rx.base, 'GET', path, { headers });
const RUT_QUERY = '/dicom-web/studies?PatientID=12.345.678-5';

describe('authentication', () => {
  it('no credential: 401 with a challenge naming Basic and Bearer', async () => {
    for (const path of [RUT_QUERY, '/dicom-web/studies', '/dicom-web/studies/1.2.3/series', '/dicom-web/series']) {
      const r = await get(path);
      expect(r.status, path).toBe(401);
      expect(r.headers['www-authenticate']).toBe(CHALLENGE);
      expect(r.json).toEqual({ error: 'unauthorized', message: expect.any(String) });
    }
  });

  it('a wrong token, a wrong Basic password, an empty Basic password: 401 with the challenge', async () => {
    for (const headers of [bearer('not-a-token-0123456789'), basic('central', 'wrong-password-0123456789'), basic('central', ''), { authorization: 'Basic !!!' }, { authorization: 'Negotiate abc' }]) {
      const r = await get(RUT_QUERY, headers);
      expect(r.status, JSON.stringify(headers)).toBe(401);
      expect(r.headers['www-authenticate']).toBe(CHALLENGE);
    }
  });

  it('a centre key cannot read: 403', async () => {
    const r = await get(RUT_QUERY, bearer(s.centerKey));
    expect(r.status).toBe(403);
    expect(r.json).toEqual({ error: 'forbidden', message: 'a centre key cannot read' });
    expect((await get(RUT_QUERY, basic('orthanc', s.centerKey))).status).toBe(403);
  });

  it('Bearer, Basic with any user name (even none) and X-Api-Key all find the same studies', async () => {
    const want = expectedOrder(s, (f) => f.patient_id !== null && f.patient_id.replace(/[.-]/g, '') === '123456785');
    for (const headers of [bearer(s.token), basic('orthanc', s.token), basic('anyone at all', s.token), basic('', s.token), { 'x-api-key': s.token }]) {
      const r = await get(RUT_QUERY, headers);
      expect(r.status, JSON.stringify(headers)).toBe(200);
      expect(keysOf(r.json)).toEqual(want);
    }
  });

  it('a revoked token is refused: 401', async () => {
    const t = await addToken(s.rx.store, 'temporary');
    expect((await get(RUT_QUERY, bearer(t))).status).toBe(200);
    await s.rx.store.access.revokeToken('temporary');
    const r = await get(RUT_QUERY, basic('x', t));
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toBe(CHALLENGE);
  });
});

describe('audit', () => {
  it('every search and every refusal after authentication is audited, with route, parameters, count and status', async () => {
    const since = await lastAuditId(s.rx);
    const ok = await qido(s, [['PatientID', '123456785'], ['limit', '2']]);
    const none = await qido(s, [['PatientID', '99999999-9']]);
    const bad = await qido(s, [['StudyDate', '20219999']]);
    const refused = await qido(s, [], { accept: 'application/dicom+xml' });
    const below = await get('/dicom-web/studies/1.2.826.0.1.0/series', bearer(s.token));
    const basicRead = await get('/dicom-web/studies?limit=1', basic('orthanc', s.token));
    await get(RUT_QUERY); // no credential: nobody to audit
    await get(RUT_QUERY, bearer(s.centerKey)); // a centre key: not a reader
    expect([ok.status, none.status, bad.status, refused.status, below.status, basicRead.status]).toEqual([200, 200, 400, 406, 404, 200]);
    const rows = await auditSince(s.rx, since);
    expect(rows.map((r) => [r.token_name, r.route, r.status, r.result_count])).toEqual([
      ['central', 'GET /dicom-web/studies', 200, 2],
      ['central', 'GET /dicom-web/studies', 200, 0],
      ['central', 'GET /dicom-web/studies', 400, 0],
      ['central', 'GET /dicom-web/studies', 406, 0],
      ['central', 'GET /dicom-web/studies/:uid/*', 404, 0],
      ['central', 'GET /dicom-web/studies', 200, 1],
    ]);
    expect(JSON.parse(rows[0]!.parameters).query).toEqual({ PatientID: '123456785', limit: '2' });
  });

  it('no patient identifier or name reaches the service log', async () => {
    await qido(s, [['PatientID', '12.345.678-5'], ['PatientName', 'PÉREZ*']]);
    await qido(s, [['PatientID', ['abc-1', 'x'].join('')], ['PatientName', 'NÚÑEZ'], ['StudyDate', '20219999']]);
    const log = s.rx.logLines.join('\n');
    expect(log).toContain('"route":"/dicom-web/studies"');
    for (const secret of ['12.345.678', '123456785', 'PÉREZ', 'NÚÑEZ', 'abc-1x', 'PEREZ', 'NUNEZ']) expect(log, secret).not.toContain(secret);
  });
});

/** A 400 naming `key`, quoting none of `secrets`. */
async function expect400(pairs: [string, string][] | string, key: string, ...secrets: string[]): Promise<void> {
  const r = await qido(s, pairs);
  const label = typeof pairs === 'string' ? pairs.slice(0, 80) : JSON.stringify(pairs).slice(0, 80);
  expect(r.status, `${label}: ${r.text.slice(0, 200)}`).toBe(400);
  expect(r.json.error, label).toBe('bad_request');
  expect(r.json.message, label).toContain(key);
  for (const secret of secrets) expect(r.text, label).not.toContain(secret);
}

describe('hostile queries', () => {
  it('a list of 1000 UIDs is answered; 1001 is a 400 naming the key', async () => {
    const real = ['1.2.826.0.1.3', '1.2.826.0.1.5', '1.2.826.0.1.7'];
    const filler = Array.from({ length: 1000 - real.length }, (_, i) => `9.${i}`);
    const r = await qido(s, [['StudyInstanceUID', [...filler.slice(0, 500), ...real, ...filler.slice(500)].join('\\')]]);
    expect(r.status).toBe(200);
    expect(keysOf(r.json)).toEqual(expectedOrder(s, (f) => real.includes(f.study_iuid)));
    await expect400([['StudyInstanceUID', [...filler, ...real, '9.99999'].join('\\')]], 'StudyInstanceUID');
    await expect400([...filler, ...real, '9.99999'].map((u): [string, string] => ['0020000D', u]), 'StudyInstanceUID');
  });

  it('8 KB values: a 400 naming the key, never echoing it; an 8 KB includefield is ignored', async () => {
    // 8 KB on the wire (a request line past 16 KB is refused by Node itself, 431, before any route).
    const huge = `Ñ${'Z'.repeat(8190)}`;
    for (const key of ['PatientName', 'PatientID', 'AccessionNumber', 'StudyDescription', 'ReferringPhysicianName', 'StudyID', 'InstitutionName']) {
      await expect400([[key, huge]], key, 'ZZZZ', 'Ñ');
    }
    await expect400([['StudyDate', '2'.repeat(8192)]], 'StudyDate', '22222222');
    await expect400([['StudyInstanceUID', '1.'.repeat(4096)]], 'StudyInstanceUID', '1.1.1.1.');
    const r = await qido(s, [['includefield', 'x'.repeat(8192)], ['limit', '1']]);
    expect(r.status).toBe(200);
    expect(r.json).toHaveLength(1);
  });

  it('a NUL or bad percent-encoding in a value: 400', async () => {
    for (const q of ['PatientName=PEREZ%00', 'PatientID=%00', '00100020=1%002', 'PatientName=%E0%A4%A', 'PatientID=%FF%FE', 'StudyDate=%', 'Patient%ZZName=x']) {
      const r = await qido(s, q);
      expect(r.status, q).toBe(400);
      expect(r.json.error, q).toBe('bad_request');
      expect(r.text, q).not.toContain('PEREZ');
    }
  });

  it('repeated single-valued keys: 400 naming the key (also keyword + tag)', async () => {
    await expect400([['PatientID', '12.345.678-5'], ['PatientID', '1-9']], 'PatientID', '12.345.678-5');
    await expect400([['PatientName', 'PÉREZ'], ['00100010', 'NÚÑEZ']], 'PatientName', 'PÉREZ', 'NÚÑEZ');
    await expect400([['StudyDate', '20210301'], ['StudyDate', '20210302']], 'StudyDate');
    await expect400([['AccessionNumber', 'ACC-1'], ['accessionnumber', 'ACC-2']], 'AccessionNumber', 'ACC-1');
    await expect400([['limit', '1'], ['limit', '2']], 'limit');
  });

  it('garbage limit and offset: 400 naming the parameter', async () => {
    for (const v of ['1e3', '-1', '0x10', '+5', '5.0', 'ten', ' 5', '', '1%2C2', '0']) {
      await expect400(`limit=${v === ' 5' ? '%205' : v}`, 'limit');
      if (v !== '0') await expect400(`offset=${v === ' 5' ? '%205' : v}`, 'offset');
    }
  });

  it('absurd dates and times: 400 naming the key, never echoing the value', async () => {
    for (const v of ['20219999', '99999999-', '-99999999', '2021-02-30', '20210230', '0', '2021', 'yesterday', '20210302-20210301', '19700101--20200101']) {
      await expect400([['StudyDate', v]], 'StudyDate', ...(v.length > 4 ? [v] : []));
    }
    for (const v of ['2400', '1060', '999999', '10:30', '12-11']) await expect400([['StudyTime', v]], 'StudyTime');
  });

  it('wildcards in ModalitiesInStudy: 400 saying they are not supported', async () => {
    await expect400([['ModalitiesInStudy', 'C*']], 'not supported for ModalitiesInStudy');
    await expect400([['ModalitiesInStudy', 'CT\\M?']], 'not supported for ModalitiesInStudy');
  });

  it('a + in the query is a blank, %2A a star (as Orthanc sends it)', async () => {
    const plus = await qido(s, 'PatientName=P%C3%89REZ+*');
    expect(plus.status).toBe(200);
    expect(keysOf(plus.json)).toEqual(expectedOrder(s, (f) => (f.patient_name ?? '').toUpperCase().startsWith('PÉREZ ') || (f.patient_name ?? '').toUpperCase().startsWith('PEREZ ')));
    const star = await qido(s, 'PatientName=MU%C3%91OZ%2A');
    expect(keysOf(star.json)).toEqual(expectedOrder(s, (f) => /^MU[ÑN]OZ\^/i.test(f.patient_name ?? '')));
  });

  it('prototype-ish parameter names are unknown parameters, ignored', async () => {
    const r = await qido(s, '__proto__=x&constructor=y&hasOwnProperty=z&toString=1&limit=2');
    expect(r.status).toBe(200);
    expect(r.json).toHaveLength(2);
  });

  it('a garbage Accept header: 406 with a clear message', async () => {
    for (const accept of ['x'.repeat(8000), 'text/html;q=1, application/json;q=0', '%%%', 'ü/ü']) {
      const r = await qido(s, [['limit', '1']], { accept });
      expect(r.status).toBe(406);
      expect(r.json.message).toContain('application/dicom+json');
    }
  });
});

describe('random hostile queries (deterministic)', () => {
  /** mulberry32: a small seeded generator, so a failure is reproducible. */
  function rng(seedValue: number): () => number {
    let a = seedValue;
    return () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const KEYS = ['PatientName', 'PatientID', '00100020', 'StudyDate', 'StudyTime', 'AccessionNumber', 'ModalitiesInStudy', 'ReferringPhysicianName',
    'StudyInstanceUID', 'StudyID', 'StudyDescription', 'InstitutionName', '00091001', 'PatientBirthDate', 'includefield', 'limit', 'offset',
    'fuzzymatching', 'Bogus', '0008', 'ZZZZZZZZ', '', '%', 'limit ', 'PatientName.x'];
  const VALUES = ["' OR 1=1 --", '%', '_', '!', '\\', '\\\\', '*', '?', '**?*', '-', '--', '20210301-', '-20210301', '1030-', 'ÑÚÑEZ^*', '=', '^^^^^^',
    '😀', '\u202e', 'x'.repeat(1100), '1.2.3', '1.2.*', 'CT\\', '\\CT', 'ct,mr', '0', '1', '99999999999', 'true', 'all', '00100010,all', '%2A', ' '];
  it('never a 5xx, never a quoted value; every 200 is valid DICOM JSON', async () => {
    const next = rng(20240607);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
    for (let i = 0; i < 300; i += 1) {
      const pairs = Array.from({ length: 1 + Math.floor(next() * 4) }, (): [string, string] => [pick(KEYS), pick(VALUES)]);
      const r = await qido(s, pairs);
      const label = JSON.stringify(pairs).slice(0, 200);
      expect([200, 400], `${label}: ${r.text.slice(0, 200)}`).toContain(r.status);
      if (r.status === 400) {
        expect(r.json.error, label).toBe('bad_request');
        for (const [, v] of pairs) if (v.length > 3 && !/^[0-9a-z,]+$/i.test(v)) expect(r.json.message, label).not.toContain(v);
      } else {
        expect(Array.isArray(r.json), label).toBe(true);
        for (const study of r.json.slice(0, 3)) expectDicomJsonStudy(study);
      }
    }
  });
});

describe('OpenAPI', () => {
  it('lists the DICOMweb routes with summaries and the search parameters', async () => {
    const doc = (await http(s.rx.base, 'GET', '/openapi.json')).json;
    for (const path of ['/dicom-web/studies', '/dicom-web/studies/{uid}', '/dicom-web/studies/{uid}/*', '/dicom-web/series', '/dicom-web/instances']) {
      expect(doc.paths[path]?.get?.summary, path).toEqual(expect.any(String));
    }
    const names = doc.paths['/dicom-web/studies'].get.parameters.map((p: { name: string }) => p.name);
    expect(names).toEqual(expect.arrayContaining(['PatientName', 'PatientID', 'StudyInstanceUID', '00091001', 'includefield', 'limit', 'offset', 'fuzzymatching']));
  });
});
