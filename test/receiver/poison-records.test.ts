import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POISON_CASES, type PoisonCase } from './poison-cases.js';
import { addCenter, bearer, http, record, startReceiver, type HttpResult, type Receiver } from './receiver-harness.js';

/**
 * Hostile records on both ingest routes: each bad record is rejected alone (v2: 200 with a
 * per-record reason; legacy: 400) or stored safely (nulled or truncated, counted), the good
 * records beside it are stored, nothing answers 5xx, and the receiver keeps answering.
 */
let rx: Receiver;
let key: string;
let numericKey: string;

beforeAll(async () => {
  // Hundreds of requests in a few seconds from one key: this file tests records, not rate limits.
  rx = await startReceiver('rx_poison', { rateLimits: { perPrincipalPerSecond: 0, perAddressPerSecond: 0, authFailuresPerMinute: 0 } });
  key = await addCenter(rx.store, 'P01');
  numericKey = await addCenter(rx.store, '123');
});
afterAll(async () => {
  await rx?.close();
});

const post = (records: unknown[]) => http(rx.base, 'POST', '/api/v2/centers/P01/studies', { headers: bearer(key), json: { records } });
const register = (body: unknown, apiKey = key) =>
  http(rx.base, 'POST', '/api/v1/register', { headers: { 'x-api-key': apiKey, 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function row(iuid: string): Promise<RowDataPacket | undefined> {
  const [rows] = await rx.pool.query<RowDataPacket[]>('SELECT * FROM studies WHERE study_iuid = ?', [iuid]);
  return rows[0];
}

async function modalityRows(iuid: string): Promise<string[]> {
  const [rows] = await rx.pool.query<RowDataPacket[]>(
    'SELECT m.modality FROM study_modalities m JOIN studies s ON s.id = m.study_id WHERE s.study_iuid = ? ORDER BY m.modality', [iuid]);
  return rows.map((r) => String(r.modality));
}

function noServerError(r: HttpResult): void {
  expect(r.status, r.text.slice(0, 300)).toBeLessThan(500);
}

/** The response and the reason never carry the posted value (it may be patient data). */
function echoesNoValue(r: HttpResult, c: PoisonCase): void {
  for (const v of Object.values(c.patch)) {
    if (typeof v === 'string' && v.length >= 8) expect(r.text.includes(v), 'the answer echoes the value').toBe(false);
  }
}

async function checkStored(iuid: string, expected: Record<string, unknown>): Promise<void> {
  const stored = await row(iuid);
  expect(stored, 'the record is stored').toBeDefined();
  expect(stored).toMatchObject(expected);
  const mods = String(stored!.modalities ?? '');
  expect((await modalityRows(iuid)).join('\\')).toBe(mods.split('\\').filter(Boolean).sort().join('\\'));
}

describe('v2 batch: one poison record among good ones', () => {
  POISON_CASES.forEach((c, i) => {
    it(c.name, async () => {
      const bad = { ...record(`10.${i}`, 5), ...c.patch };
      const iuid = bad.study_iuid;
      const r = await post([record(`11.${i}`, 5), bad, record(`12.${i}`, 5)]);
      noServerError(r);
      expect(r.status).toBe(200);
      echoesNoValue(r, c);
      expect(await row(`11.${i}`), 'the good record before it is stored').toBeDefined();
      expect(await row(`12.${i}`), 'the good record after it is stored').toBeDefined();
      if ('reject' in c.expect) {
        expect(r.json.stored).toBe(2);
        expect(r.json.rejected).toHaveLength(1);
        expect(r.json.rejected[0].index).toBe(1);
        expect(r.json.rejected[0].reason).toMatch(c.expect.reject);
        if (typeof iuid === 'string' && /^[\x21-\x7e]{1,255}$/.test(iuid)) expect(await row(iuid)).toBeUndefined();
      } else {
        expect(r.json.rejected).toEqual([]);
        expect(r.json.stored).toBe(3);
        await checkStored(bad.study_iuid as string, c.expect.row);
        if (c.expect.normalised) expect(r.json.normalised?.[c.expect.normalised]).toBe(1);
      }
    });
  });
});

const legacyBase = {
  patient_pk: '77', patient_id: '12.345.678-5', patient_name: 'PEREZ^JOSE^PEREZ', study_pk: '2452',
  study_datetime: '2015-03-22 00:53:17', study_description: 'TORAX', study_modality: 'CT\\SR',
  study_series: '3', study_instances: '120', center: 'P01',
};

describe('legacy register: one poison record', () => {
  POISON_CASES.filter((c) => !c.v2Only).forEach((c, i) => {
    it(c.name, async () => {
      const iuid = 'study_iuid' in c.patch ? c.patch.study_iuid : `20.${i}`;
      const r = await register({ ...legacyBase, study_iuid: iuid, ...c.patch });
      noServerError(r);
      echoesNoValue(r, c);
      if ('reject' in c.expect) {
        expect(r.status).toBe(400);
        expect(r.json.message).toMatch(c.expect.reject);
      } else {
        expect(r.status, r.text).toBe(201);
        await checkStored(iuid as string, c.expect.row);
      }
    });
  });

  it('stores a dcm4chee zero date as null (as the legacy client posts it), counted in the metrics', async () => {
    const r = await register({ ...legacyBase, study_iuid: '21.1', study_datetime: '0000-00-00 00:00:00' });
    expect(r.status, r.text).toBe(201);
    expect(await row('21.1')).toMatchObject({ study_datetime: null, sort_at: '1000-01-01 00:00:00', study_series: 3 });
    const metrics = await http(rx.base, 'GET', '/metrics');
    expect(metrics.text).toMatch(/receiver_ingest_normalised_total\{center="P01",field="study_datetime"\} [1-9]/);
  });

  it('center must be a string (a number is taken as its text); another type is a 400, not a 403 or 5xx', async () => {
    expect((await register({ ...legacyBase, study_iuid: '21.2', center: 123 }, numericKey)).status).toBe(201);
    expect((await row('21.2'))?.center_id).toBeDefined();
    for (const center of [{}, ['P01'], true, [['P01']]]) {
      const r = await register({ ...legacyBase, study_iuid: '21.3', center });
      expect(r.status, JSON.stringify(center)).toBe(400);
      expect(r.json.message).toMatch(/center/);
    }
    expect(await row('21.3')).toBeUndefined();
  });
});

describe('v2 batch: the batch as a whole', () => {
  it('every poison record in one batch: each rejected alone, every good record stored', async () => {
    const records: unknown[] = [];
    const rejects = new Set<number>();
    POISON_CASES.forEach((c, i) => {
      records.push(record(`30.${i}`, 7));
      if ('reject' in c.expect) rejects.add(records.length);
      records.push({ ...record(`31.${i}`, 7), ...c.patch });
    });
    records.push(42, null, [], 'a string');
    for (let n = records.length - 4; n < records.length; n += 1) rejects.add(n);
    const r = await post(records);
    noServerError(r);
    expect(r.status).toBe(200);
    expect(r.json.rejected.map((x: { index: number }) => x.index)).toEqual([...rejects]);
    expect(r.json.stored + r.json.unchanged + r.json.stale).toBe(records.length - rejects.size);
    for (let i = 0; i < POISON_CASES.length; i += 1) expect(await row(`30.${i}`), `30.${i}`).toBeDefined();
  });

  it('a study twice in one batch (also once the iuid is cleaned of NULs and blanks): the highest version wins', async () => {
    const r = await post([record('32.1', 1, { study_description: 'one' }), record(' 32.1\u0000', 2, { study_description: 'two' }), record('32.1', 2)]);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ stored: 1, rejected: [] });
    expect(r.json.stored + r.json.unchanged + r.json.stale).toBe(3);
    expect(await row('32.1')).toMatchObject({ source_seq: 2 });
  });

  it('bytes that are not UTF-8 inside a string are stored as replacement characters', async () => {
    const body = Buffer.concat([
      Buffer.from(`{"records": [${JSON.stringify(record('33.1', 1))}, {"study_iuid": "33.2", "source_seq": 1, "patient_name": "A`),
      Buffer.from([0xc3, 0x28, 0xff, 0xfe]),
      Buffer.from('^B"}]}'),
    ]);
    const r = await http(rx.base, 'POST', '/api/v2/centers/P01/studies', { headers: { ...bearer(key), 'content-type': 'application/json' }, body });
    noServerError(r);
    expect(r.json).toMatchObject({ stored: 2, rejected: [] });
    expect(String((await row('33.2'))?.patient_name)).toMatch(/^A\ufffd.*\^B$/u);
  });

  it('the answer counts nulled and truncated values per field', async () => {
    const r = await post([
      record('34.1', 1, { study_datetime: '0000-00-00 00:00:00', patient_name: 'N'.repeat(300) }),
      record('34.2', 1, { study_datetime: '2021-02-29T00:00:00', patient_birthdate: '00000000' }),
      record('34.3', 1),
    ]);
    expect(r.json).toMatchObject({ stored: 3, rejected: [], normalised: { study_datetime: 2, patient_name: 1, patient_birthdate: 1 } });
    expect((await post([record('34.4', 1)])).json.normalised).toEqual({});
  });

  it('reasons and logs carry field names, never the rejected value', async () => {
    const secret = `SECRET-${'ß'.repeat(130)}`;
    const r = await post([record('35.1', 1, { patient_id: secret })]);
    expect(r.json.rejected[0].reason).toMatch(/patient_id/);
    expect(r.text).not.toContain('SECRET');
    expect(rx.logLines.some((l) => l.includes('SECRET'))).toBe(false);
  });

  it('the receiver still answers and stores after all of it', async () => {
    expect((await http(rx.base, 'GET', '/healthz')).status).toBe(200);
    expect((await http(rx.base, 'GET', '/readyz')).status).toBe(200);
    expect((await post([record('36.1', 1)])).json).toMatchObject({ stored: 1, rejected: [] });
  });
});
