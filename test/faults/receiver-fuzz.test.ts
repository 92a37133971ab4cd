import type { RowDataPacket } from 'mysql2/promise';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FuzzGenerator, type FuzzCase } from '../receiver/fuzz-cases.js';
import { addCenter, addToken, bearer, http, record, startReceiver, type Receiver } from '../helpers/receiver-harness.js';

/**
 * ≥ 10,000 malformed requests, generated from a fixed seed, sent over real HTTP on loopback to a
 * running receiver: never a 5xx, the server still answers after, and nothing from a rejected
 * record (or a refused request) is stored, nor does a rejected record change an existing study.
 */
const TOTAL = Number(process.env.FUZZ_TOTAL ?? 10_000);
const CONCURRENCY = 8;
const SEED = 20_240_601;

let rx: Receiver;
let dispatcher: Agent;
const existing = Array.from({ length: 20 }, (_, i) => `fz.existing.${i}`);

beforeAll(async () => {
  rx = await startReceiver('rx_fuzz', { limits: { bodyBytes: 256 * 1024, decompressedBytes: 1024 * 1024, recordsPerBatch: 100 } });
  dispatcher = new Agent({ connections: CONCURRENCY, headersTimeout: 30_000, bodyTimeout: 30_000 });
});
afterAll(async () => {
  await dispatcher?.close();
  await rx?.close();
});

interface Outcome {
  status: number | 'closed';
  json: { rejected?: { index: number }[]; stored?: number } | undefined;
}

async function send(c: FuzzCase, base: string): Promise<Outcome> {
  try {
    const res = await request(`${base}${c.path}`, { dispatcher, method: c.method as 'GET', headers: c.headers, body: c.body });
    const text = await res.body.text();
    let json: Outcome['json'];
    try {
      json = JSON.parse(text) as Outcome['json'];
    } catch {
      json = undefined;
    }
    return { status: res.statusCode, json };
  } catch (err) {
    // The server may close the connection on a body it refused before reading it all (413).
    if (process.env.FUZZ_DEBUG) console.log(c.category, c.method, c.path.slice(0, 60), (err as { code?: string }).code, String(err).slice(0, 100));
    return { status: 'closed', json: undefined };
  }
}

async function snapshot(): Promise<Map<string, string>> {
  const [rows] = await rx.pool.query<RowDataPacket[]>("SELECT * FROM studies WHERE study_iuid LIKE 'fz.existing.%'");
  return new Map(rows.map((r) => [String(r.study_iuid), JSON.stringify(r)]));
}

describe('receiver fuzz', () => {
  it(`${TOTAL} malformed requests: no 5xx, still healthy, nothing stored from what was rejected`, async () => {
    const key = await addCenter(rx.store, 'FZ');
    await addCenter(rx.store, 'FZ2');
    const token = await addToken(rx.store, 'fuzz');
    const seeded = await http(rx.base, 'POST', '/api/v2/centers/FZ/studies', { headers: bearer(key), json: { records: existing.map((i) => record(i, 10)) } });
    expect(seeded.json.stored).toBe(existing.length);
    const before = await snapshot();

    const gen = new FuzzGenerator({ key, token, center: 'FZ', otherCenter: 'FZ2', existing }, SEED);
    const byCategory = new Map<string, { sent: number; statuses: Record<string, number> }>();
    const mustBeAbsent: string[] = [];
    const fiveHundreds: string[] = [];
    const accepted = new Set<string>();
    const fresh = (i: string | null | undefined): i is string => typeof i === 'string' && /^fz\.\d+$/.test(i);
    let sent = 0;
    const worker = async () => {
      while (sent < TOTAL) {
        sent += 1;
        const c = gen.next();
        const o = await send(c, rx.base);
        const cat = byCategory.get(c.category) ?? { sent: 0, statuses: {} };
        cat.sent += 1;
        cat.statuses[String(o.status)] = (cat.statuses[String(o.status)] ?? 0) + 1;
        byCategory.set(c.category, cat);
        if (typeof o.status === 'number' && o.status >= 500) fiveHundreds.push(`${c.category}: ${c.method} ${c.path.slice(0, 80)} → ${o.status}`);
        const iuids = c.iuids ?? [];
        if (o.status === 200 && o.json?.rejected) {
          const rejected = new Set(o.json.rejected.map((r) => r.index));
          iuids.forEach((i, index) => (rejected.has(index) ? mustBeAbsent : fresh(i) ? [...accepted.add(i)] : []).push(i!));
        } else if (o.status === 201) {
          iuids.filter(fresh).forEach((i) => accepted.add(i));
        } else mustBeAbsent.push(...iuids.filter((i): i is string => i !== null));
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));

    const summary = Object.fromEntries([...byCategory].sort().map(([k, v]) => [k, v]));
    console.log(`receiver fuzz: ${sent} requests, seed ${SEED}\n${JSON.stringify(summary, null, 1)}`);
    expect(sent).toBeGreaterThanOrEqual(TOTAL);
    expect(fiveHundreds).toEqual([]);
    expect((await http(rx.base, 'GET', '/healthz')).status).toBe(200);
    expect((await http(rx.base, 'GET', '/readyz')).status).toBe(200);

    // Nothing from a rejected record: no new row for it, and the existing studies it aimed at are unchanged.
    const absent = mustBeAbsent.filter(fresh); // the others could never be stored (not ASCII, too long)
    expect(absent.length).toBeGreaterThan(1000);
    const found: string[] = [];
    for (let i = 0; i < absent.length; i += 1000) {
      const [rows] = await rx.pool.query<RowDataPacket[]>('SELECT study_iuid FROM studies WHERE study_iuid IN (?)', [absent.slice(i, i + 1000)]);
      found.push(...rows.map((r) => String(r.study_iuid)));
    }
    expect(found).toEqual([]);
    expect(await snapshot()).toEqual(before);
    // And every accepted fresh record is there: the check above is not vacuous.
    const [[{ n }]] = (await rx.pool.query("SELECT COUNT(*) AS n FROM studies WHERE study_iuid REGEXP '^fz[.][0-9]+$'")) as unknown as [[{ n: number }]];
    expect(Number(n)).toBe(accepted.size);
  }, 240_000);
});
