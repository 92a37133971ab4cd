import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveReceiver, receiverCommand } from './live-receiver.js';

/**
 * One client, even without a key, must not lock the others out of the real receiver process:
 * connections are capped per client address (another address is served at once), a socket that
 * never sends a byte is closed within the first-byte timeout, and a refused request (401, 413…)
 * closes its connection instead of waiting for a trickled body. The hostile client uses
 * 127.0.0.2 (still loopback), the well-behaved one 127.0.0.1.
 */
const HOSTILE = '127.0.0.2';
/**
 * Later cases each connect from an address of their own: the receiver frees the slots of the
 * connections it closed when its own event loop sees them close, which can trail what this
 * process sees, so reusing an address would race with the slots the case before still holds.
 */
const FRESH = { noKey: '127.0.0.3', refused: '127.0.0.4', tooLarge: '127.0.0.5', tricklers: '127.0.0.6' };

interface Conn {
  socket: Socket;
  closed: () => boolean;
  closedAt: Promise<number>;
  data: () => string;
}

function open(port: number, localAddress: string): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress });
    let closed = false;
    let data = '';
    socket.on('data', (d) => (data += d.toString()));
    socket.on('error', () => undefined);
    const closedAt = new Promise<number>((r) => socket.once('close', () => {
      closed = true;
      r(performance.now());
    }));
    socket.once('connect', () => resolve({ socket, closed: () => closed, closedAt, data: () => data }));
    socket.once('error', reject);
  });
}

/** /healthz from the well-behaved address, with the time it took (Infinity when refused). */
async function healthz(base: string): Promise<number> {
  const started = performance.now();
  try {
    const res = await request(`${base}/healthz`, { headersTimeout: 3000, bodyTimeout: 3000 });
    await res.body.text();
    return res.statusCode === 200 ? performance.now() - started : Infinity;
  } catch {
    return Infinity;
  }
}

describe('per-address connection cap, first-byte timeout, refused requests closed (real receiver process)', () => {
  let rx: LiveReceiver & { key: string; token: string };
  const conns: Conn[] = [];
  beforeAll(async () => {
    rx = await LiveReceiver.start('rx_conn_guard', {
      RECEIVER_MAX_CONNECTIONS_PER_ADDRESS: '8',
      RECEIVER_MAX_CONNECTIONS: '40',
      RECEIVER_FIRST_BYTE_TIMEOUT_MS: '1500',
      // Default header (10 s) and request (60 s) timeouts: the fixes must not lean on them.
    });
  });
  afterAll(async () => {
    for (const c of conns) c.socket.destroy();
    await rx?.stop();
  });

  it('45 idle connections from one address (past the global cap of 40): only 8 stay, another address is served at once', async () => {
    for (let i = 0; i < 45; i++) conns.push(await open(rx.port, HOSTILE));
    await sleep(300);
    const alive = conns.filter((c) => !c.closed()).length;
    expect(alive).toBe(8);
    expect(await healthz(rx.base)).toBeLessThan(1000);
  });

  it('the connections that never sent a byte are closed after RECEIVER_FIRST_BYTE_TIMEOUT_MS (not the 10 s headers timeout)', async () => {
    const closed = await Promise.race([Promise.all(conns.map((c) => c.closedAt)).then(() => true), sleep(4000).then(() => false)]);
    expect(closed).toBe(true);
    expect(rx.exit).toBeNull();
  }, 10_000);

  it('headers of a large body without a key: 401, and the connection is closed at once instead of waiting for the body', async () => {
    const c = await open(rx.port, FRESH.noKey);
    const started = performance.now();
    c.socket.write('POST /api/v2/centers/001/studies HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{');
    const trickle = setInterval(() => c.socket.writable && c.socket.write(' '), 200);
    const closedAt = await Promise.race([c.closedAt, sleep(5000).then(() => null)]);
    clearInterval(trickle);
    c.socket.destroy();
    expect(c.data()).toMatch(/^HTTP\/1\.1 401/);
    expect(c.data().toLowerCase()).toContain('connection: close');
    expect(closedAt).not.toBeNull();
    expect(closedAt! - started).toBeLessThan(2000);
  }, 10_000);

  it('another centre\'s valid key, a read token, a disabled centre: 403 before the body, and the connection closed at once', async () => {
    const add = receiverCommand(['centers', 'add', '002', '--key', 'hostile-test-key-002-0123456789'], rx.env);
    expect(add.code).toBe(0);
    expect(receiverCommand(['centers', 'add', '003', '--key', 'hostile-test-key-003-0123456789'], rx.env).code).toBe(0);
    expect(receiverCommand(['centers', 'disable', '003'], rx.env).code).toBe(0);
    for (const [path, credential] of [
      ['/api/v2/centers/001/studies', 'hostile-test-key-002-0123456789'],
      ['/api/v2/centers/001/studies', rx.token],
      ['/api/v2/centers/003/studies', 'hostile-test-key-003-0123456789'],
    ] as const) {
      const c = await open(rx.port, FRESH.refused);
      const started = performance.now();
      c.socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${credential}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"records":[`);
      const trickle = setInterval(() => c.socket.writable && c.socket.write(' '), 200);
      const closedAt = await Promise.race([c.closedAt, sleep(5000).then(() => null)]);
      clearInterval(trickle);
      c.socket.destroy();
      expect(c.data()).toMatch(/^HTTP\/1\.1 403/);
      expect(c.data().toLowerCase()).toContain('connection: close');
      expect(closedAt).not.toBeNull();
      expect(closedAt! - started).toBeLessThan(2500);
    }
  }, 30_000);

  it('a client still uploading a 4 MB body reads its 401 (the close lingers; no reset that would lose the answer)', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await request(`${rx.base}/api/v2/centers/001/studies`, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer wrong-key-0123456789abcdef' }, body: Buffer.alloc(4 * 1024 * 1024, 0x20),
      });
      expect(res.statusCode).toBe(401);
      expect(res.headers.connection).toBe('close');
      await res.body.text();
    }
  }, 20_000);

  it('a body past the byte limit with a valid key: 413 and closed; a trickler with a valid key keeps one slot, not all', async () => {
    const c = await open(rx.port, FRESH.tooLarge);
    c.socket.write(`POST /api/v2/centers/001/studies HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${rx.key}\r\nContent-Type: application/json\r\nContent-Length: ${64 * 1024 * 1024}\r\n\r\n{`);
    const closedAt = await Promise.race([c.closedAt, sleep(5000).then(() => null)]);
    c.socket.destroy();
    expect(c.data()).toMatch(/^HTTP\/1\.1 413/);
    expect(closedAt).not.toBeNull();
    const tricklers = await Promise.all(Array.from({ length: 12 }, () => open(rx.port, FRESH.tricklers)));
    for (const t of tricklers) t.socket.write(`POST /api/v2/centers/001/studies HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${rx.key}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{`);
    await sleep(300);
    expect(tricklers.filter((t) => !t.closed()).length).toBe(8);
    expect(await healthz(rx.base)).toBeLessThan(1000);
    for (const t of tricklers) t.socket.destroy();
  }, 15_000);
});
