import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveReceiver } from './live-receiver.js';

/**
 * Bodies within every byte limit whose JSON structure is the bomb: 60 MB of `[[[[…]]]]` in one
 * record field (58 KB of gzip) took the receiver from 0.25 to 3.1 GB and blocked it ~11 s; millions
 * of tiny `{}` cost ~1 GB. The structure is refused before JSON.parse builds it: memory stays
 * bounded and /healthz keeps answering while several arrive at once.
 */
const prefix = Buffer.from('{"records":[{"study_iuid":"1.2.nb","source_seq":1,"center":"001","patient_name":');
const nest = (depth: number, head = prefix, tail = '}]}') =>
  gzipSync(Buffer.concat([head, Buffer.alloc(depth, '['), Buffer.alloc(depth, ']'), Buffer.from(tail)]), { level: 9 });
const NEST_BOMB = nest(30_000_000);
const LEGACY_NEST_BOMB = nest(8_000_000, Buffer.from('{"center":"001","study_iuid":"1.2.ln","patient_name":'), '}');
/** 10 M empty objects in one array: 30 MB decoded, within the byte limits, ~1 GB once parsed. */
const TOKEN_BOMB = gzipSync(Buffer.concat([Buffer.from('{"records":['), Buffer.from('{},'.repeat(10_000_000)), Buffer.from('{}]}')]), { level: 9 });

type Outcome = { status: number | 'closed'; json: { error?: string; message?: string } | undefined; ms: number };

async function post(rx: LiveReceiver & { key: string }, path: string, body: Buffer, legacy = false): Promise<Outcome> {
  const started = performance.now();
  const auth: Record<string, string> = legacy ? { 'x-api-key': rx.key } : { authorization: `Bearer ${rx.key}` };
  try {
    const res = await request(`${rx.base}${path}`, {
      method: 'POST', body, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', ...auth }, headersTimeout: 60_000, bodyTimeout: 60_000,
    });
    const text = await res.body.text();
    let json: Outcome['json'];
    try {
      json = JSON.parse(text) as Outcome['json'];
    } catch {
      json = undefined;
    }
    return { status: res.statusCode, json, ms: performance.now() - started };
  } catch {
    return { status: 'closed', json: undefined, ms: performance.now() - started };
  }
}

describe('JSON structure bombs (real receiver process)', () => {
  let rx: LiveReceiver & { key: string; token: string };
  beforeAll(async () => {
    rx = await LiveReceiver.start('rx_hostile_structure');
  });
  afterAll(async () => {
    await rx?.stop();
  });

  it('the bombs are within the byte limits (the structure, not the size, is what gets refused)', () => {
    expect(NEST_BOMB.length).toBeLessThan(100_000);
    expect(TOKEN_BOMB.length).toBeLessThan(200_000);
  });

  it('60 MB of nesting in one v2 record field: 400 naming the depth limit, fast, the process unharmed', async () => {
    const o = await post(rx, '/api/v2/centers/001/studies', NEST_BOMB);
    expect(o.status).toBe(400);
    expect(o.json?.message).toMatch(/deeper than 32 levels/);
    expect(o.ms).toBeLessThan(3000);
    expect(rx.exit).toBeNull();
  }, 60_000);

  it('16 MB of nesting on the legacy route: the same 400', async () => {
    const o = await post(rx, '/api/v1/register', LEGACY_NEST_BOMB, true);
    expect(o.status).toBe(400);
    expect(o.json?.message).toMatch(/deeper than 32 levels/);
  }, 60_000);

  it('10 M empty objects: 413 naming the token limit (the agent halves such a batch)', async () => {
    const o = await post(rx, '/api/v2/centers/001/studies', TOKEN_BOMB);
    expect(o.status).toBe(413);
    expect(o.json?.message).toMatch(/more than 1500000 JSON tokens/);
  }, 60_000);

  // The documented bound: bodies in flight cost ~3 × their decoded bytes, here none is ever parsed.
  const RSS_BOUND_MIB = 400;

  it(`4 nest bombs and 4 token bombs at once: RSS under ${RSS_BOUND_MIB} MiB, /healthz answers within 1 s throughout`, async () => {
    let peak = rx.rssMiB();
    const sampler = setInterval(() => {
      try {
        peak = Math.max(peak, rx.rssMiB());
      } catch {
        // the process is gone: asserted below
      }
    }, 20);
    const health: number[] = [];
    let running = true;
    const prober = (async () => {
      while (running) {
        const started = performance.now();
        const ok = await rx.healthy();
        health.push(ok ? performance.now() - started : Infinity);
        await sleep(50);
      }
    })();
    const bombs = await Promise.all([
      ...Array.from({ length: 4 }, () => post(rx, '/api/v2/centers/001/studies', NEST_BOMB)),
      ...Array.from({ length: 4 }, () => post(rx, '/api/v2/centers/001/studies', TOKEN_BOMB)),
    ]);
    await sleep(300);
    running = false;
    await prober;
    clearInterval(sampler);
    console.log(`8 structure bombs: statuses ${bombs.map((b) => b.status).join(' ')}, peak RSS ${Math.round(peak)} MiB, slowest /healthz ${Math.round(Math.max(...health))} ms`);
    expect(rx.exit).toBeNull();
    for (const b of bombs) expect([400, 413]).toContain(b.status);
    expect(peak).toBeLessThan(RSS_BOUND_MIB);
    expect(health.length).toBeGreaterThan(2);
    expect(Math.max(...health)).toBeLessThan(1000);
  }, 120_000);

  it('a normal batch is still accepted afterwards', async () => {
    const body = gzipSync(JSON.stringify({ records: [{ study_iuid: '1.2.ok', source_seq: 1, center: '001', modalities: ['CT', 'SR'] }] }));
    const o = await post(rx, '/api/v2/centers/001/studies', body);
    expect(o.status).toBe(200);
  });
});
