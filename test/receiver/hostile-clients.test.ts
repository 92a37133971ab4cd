import { connect, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveReceiver } from './live-receiver.js';

/**
 * The real receiver process against clients that mean harm: expanding and corrupt bodies on every
 * ingest route and encoding, concurrent bombs, trickling and idle sockets, too many connections.
 * It must answer each with a 4xx (or 503 when busy), never exit, never answer 5xx for their input,
 * and keep its memory bounded.
 */

type Outcome = { status: number | 'closed'; text: string; headers: Record<string, string | string[] | undefined> };

async function send(base: string, path: string, headers: Record<string, string>, body: Buffer | Readable): Promise<Outcome> {
  try {
    const res = await request(`${base}${path}`, { method: 'POST', headers, body, headersTimeout: 60_000, bodyTimeout: 60_000 });
    return { status: res.statusCode, text: await res.body.text(), headers: res.headers };
  } catch (err) {
    if (process.env.HOSTILE_DEBUG) console.log('send failed', err, (err as { cause?: unknown }).cause);
    return { status: 'closed', text: '', headers: {} };
  }
}

/** A raw HTTP/1.1 exchange: writes `head` then reports what came back and when the server closed. */
function rawSocket(port: number): Promise<{ socket: Socket; data: () => string; closedAt: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (d) => (data += d.toString()));
    socket.on('error', () => undefined);
    const closedAt = new Promise<number>((r) => socket.once('close', () => r(Date.now())));
    socket.once('connect', () => resolve({ socket, data: () => data, closedAt }));
    socket.once('error', reject);
  });
}

const BOMB_80MB = gzipSync(Buffer.alloc(80 * 1024 * 1024, 0x20));
const validGzip = gzipSync(JSON.stringify({ records: [] }));
const crcBroken = Buffer.from(validGzip);
crcBroken[crcBroken.length - 6]! ^= 0xff;

describe('hostile bodies on every ingest route (real receiver process)', () => {
  let rx: LiveReceiver & { key: string; token: string };
  beforeAll(async () => {
    rx = await LiveReceiver.start('rx_hostile_bodies');
  });
  afterAll(async () => {
    await rx?.stop();
  });

  const routes = ['/api/v1/register', '/api/v2/centers/001/studies'];
  const cases: { name: string; headers: Record<string, string>; body: () => Buffer | Readable; expected: (number | 'closed')[] }[] = [
    { name: 'an 80 KB gzip that expands past the limit', headers: { 'content-encoding': 'gzip' }, body: () => BOMB_80MB, expected: [413] },
    { name: 'the same bomb, chunked (no Content-Length)', headers: { 'content-encoding': 'gzip' }, body: () => Readable.from([BOMB_80MB.subarray(0, 40_000), BOMB_80MB.subarray(40_000)]), expected: [413] },
    { name: 'a gzip with a corrupt CRC', headers: { 'content-encoding': 'gzip' }, body: () => crcBroken, expected: [400] },
    { name: 'a truncated gzip stream', headers: { 'content-encoding': 'gzip' }, body: () => validGzip.subarray(0, validGzip.length - 9), expected: [400] },
    { name: 'a body that is not gzip at all', headers: { 'content-encoding': 'gzip' }, body: () => Buffer.from('{"records": []}'), expected: [400] },
    { name: 'an empty gzip body', headers: { 'content-encoding': 'gzip' }, body: () => Buffer.alloc(0), expected: [400] },
    { name: 'x-gzip, truncated', headers: { 'content-encoding': 'x-gzip' }, body: () => validGzip.subarray(0, 12), expected: [400] },
    { name: 'deflate (not supported)', headers: { 'content-encoding': 'deflate' }, body: () => Buffer.from('x'), expected: [415] },
    { name: 'br (not supported)', headers: { 'content-encoding': 'br' }, body: () => Buffer.from('x'), expected: [415] },
    { name: 'gzip twice', headers: { 'content-encoding': 'gzip, gzip' }, body: () => validGzip, expected: [415] },
    { name: 'an unknown encoding', headers: { 'content-encoding': 'zstd-bomb' }, body: () => Buffer.from('x'), expected: [415] },
    // Still sending when answered: fastify closes such a connection after its 413, so the client may see EPIPE instead.
    { name: 'identity past the wire limit, chunked', headers: {}, body: () => Readable.from((function* () { for (let i = 0; i < 20; i++) yield Buffer.alloc(1024 * 1024, 0x20); })()), expected: [413, 'closed'] },
  ];

  for (const route of routes) {
    it.each(cases)(`${route}: $name → 4xx, the process lives on`, async ({ headers, body, expected }) => {
      const auth: Record<string, string> = route.startsWith('/api/v1') ? { 'x-api-key': rx.key } : { authorization: `Bearer ${rx.key}` };
      const o = await send(rx.base, route, { 'content-type': 'application/json', ...auth, ...headers }, body());
      expect(expected).toContain(o.status);
      expect(o.text).not.toMatch(/internal|stack|zlib|Z_/i);
      await sleep(200); // a late stream error would kill the process now
      expect(rx.exit).toBeNull();
      expect(await rx.healthy()).toBe(true);
    }, 60_000);
  }

  it('a Content-Length smaller than the body: 400, the process lives on (a larger one waits for the request timeout, below)', async () => {
    const { socket, data, closedAt } = await rawSocket(rx.port);
    socket.write(`POST /api/v2/centers/001/studies HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${rx.key}\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n{"records": []}`);
    await Promise.race([closedAt, sleep(3000)]);
    expect(data()).toMatch(/^HTTP\/1\.1 400/);
    socket.destroy();
    expect(await rx.healthy()).toBe(true);
  });

  it('a gzip POST to an unknown route: 404 before any body parsing', async () => {
    const o = await send(rx.base, '/api/v2/centres/001/studies', { 'content-encoding': 'gzip', 'content-type': 'application/json', authorization: `Bearer ${rx.key}` }, BOMB_80MB);
    expect(o.status).toBe(404);
    expect(JSON.parse(o.text)).toEqual({ error: 'not_found', message: 'no such route' });
  });
});

describe('concurrent bombs: bounded memory (real receiver process)', () => {
  let rx: LiveReceiver & { key: string; token: string };
  beforeAll(async () => {
    rx = await LiveReceiver.start('rx_hostile_memory');
  });
  afterAll(async () => {
    await rx?.stop();
  });

  // 16 × 60 MB decoded at once took the receiver to 2.4 GB before bodies in flight were budgeted.
  // Bound: the default budget (128 MiB of decoded bodies), about three copies of each while parsed, plus the process itself.
  const RSS_BOUND_MIB = 700;

  it(`16 concurrent 61 KB bodies expanding to 60 MB each: RSS stays under ${RSS_BOUND_MIB} MiB, busy ones get 503 + Retry-After`, async () => {
    const bomb = gzipSync(Buffer.alloc(60 * 1000 * 1000, 0x20));
    expect(bomb.length).toBeLessThan(70_000);
    let peak = rx.rssMiB();
    const sampler = setInterval(() => {
      try {
        peak = Math.max(peak, rx.rssMiB());
      } catch {
        // the process is gone: asserted below
      }
    }, 20);
    const outcomes = await Promise.all(Array.from({ length: 16 }, () =>
      send(rx.base, '/api/v2/centers/001/studies', { 'content-encoding': 'gzip', 'content-type': 'application/json', authorization: `Bearer ${rx.key}` }, bomb)));
    clearInterval(sampler);
    const statuses = outcomes.map((o) => o.status);
    console.log(`16 concurrent bombs: statuses ${statuses.join(' ')}, peak RSS ${Math.round(peak)} MiB`);
    expect(rx.exit).toBeNull();
    expect(peak).toBeLessThan(RSS_BOUND_MIB);
    for (const o of outcomes) expect([400, 413, 503]).toContain(o.status); // 60 MB of blanks is not JSON: 400 once read
    const busy = outcomes.filter((o) => o.status === 503);
    expect(busy.length).toBeGreaterThan(0);
    for (const o of busy) expect(Number(o.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(await rx.healthy()).toBe(true);
    // And the budget is given back: a normal batch is accepted afterwards.
    const ok = await send(rx.base, '/api/v2/centers/001/studies', { 'content-encoding': 'gzip', 'content-type': 'application/json', authorization: `Bearer ${rx.key}` }, validGzip);
    expect(ok.status).toBe(200);
  }, 120_000);
});

describe('slow, idle and too many clients (real receiver process)', () => {
  let rx: LiveReceiver & { key: string; token: string };
  beforeAll(async () => {
    rx = await LiveReceiver.start('rx_hostile_sockets', {
      RECEIVER_REQUEST_TIMEOUT_MS: '3000',
      RECEIVER_HEADERS_TIMEOUT_MS: '2000',
      RECEIVER_KEEP_ALIVE_TIMEOUT_MS: '1000',
      RECEIVER_MAX_CONNECTIONS: '6',
    });
  });
  afterAll(async () => {
    await rx?.stop();
  });

  it('a body trickled a byte a second is cut off after RECEIVER_REQUEST_TIMEOUT_MS (408)', async () => {
    const { socket, data, closedAt } = await rawSocket(rx.port);
    const started = Date.now();
    socket.write(`POST /api/v2/centers/001/studies HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${rx.key}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n`);
    const trickle = setInterval(() => socket.writable && socket.write('{'), 1000);
    const closed = await Promise.race([closedAt, sleep(10_000).then(() => null)]);
    clearInterval(trickle);
    socket.destroy();
    expect(closed).not.toBeNull();
    expect(closed! - started).toBeGreaterThanOrEqual(2500);
    expect(data()).toMatch(/^HTTP\/1\.1 408/);
    expect(await rx.healthy()).toBe(true);
  }, 20_000);

  it('headers trickled a byte a second are cut off after RECEIVER_HEADERS_TIMEOUT_MS', async () => {
    const { socket, closedAt } = await rawSocket(rx.port);
    const started = Date.now();
    const head = 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(100);
    let i = 0;
    const trickle = setInterval(() => socket.writable && socket.write(head[i++ % head.length]!), 1000);
    const closed = await Promise.race([closedAt, sleep(10_000).then(() => null)]);
    clearInterval(trickle);
    socket.destroy();
    expect(closed).not.toBeNull();
    expect(closed! - started).toBeLessThan(6000);
  }, 20_000);

  it('an idle keep-alive connection is closed after RECEIVER_KEEP_ALIVE_TIMEOUT_MS', async () => {
    const { socket, data, closedAt } = await rawSocket(rx.port);
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    const closed = await Promise.race([closedAt, sleep(6000).then(() => null)]);
    socket.destroy();
    expect(data()).toMatch(/^HTTP\/1\.1 200/);
    expect(closed).not.toBeNull();
  }, 20_000);

  it('connections past RECEIVER_MAX_CONNECTIONS are refused; a slot that frees is usable again', async () => {
    const held = await Promise.all(Array.from({ length: 6 }, () => rawSocket(rx.port)));
    await sleep(200);
    const extra = await rawSocket(rx.port);
    extra.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    const refused = await Promise.race([extra.closedAt, sleep(1500).then(() => null)]);
    expect(refused).not.toBeNull();
    expect(extra.data()).toBe('');
    for (const h of held) h.socket.destroy();
    await sleep(300);
    expect(await rx.healthy()).toBe(true);
  }, 20_000);
});
