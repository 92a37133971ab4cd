import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/receiver/app.js';
import { hashSecret } from '../../src/receiver/http/auth.js';
import { loadReceiverConfig } from '../../src/receiver/config.js';
import { createLogger } from '../../src/shared/logger.js';
import { addCenter, addToken, bearer, http, record, startReceiver, type Receiver } from './receiver-harness.js';

let rx: Receiver;
let dir: string;

beforeAll(async () => {
  rx = await startReceiver('rx_tls_keys');
  dir = mkdtempSync(join(tmpdir(), 'rx-tls-'));
  // A self-signed certificate for 127.0.0.1: it is its own CA.
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ], { stdio: 'ignore' });
});
afterAll(async () => {
  await rx?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('HTTPS served directly (RECEIVER_TLS_CERT / RECEIVER_TLS_KEY)', () => {
  it('a client trusting the CA succeeds, one that does not is refused, plain HTTP gets no answer', async () => {
    const config = loadReceiverConfig({
      RECEIVER_DATABASE_URL: rx.db.url, RECEIVER_TLS_CERT: join(dir, 'cert.pem'), RECEIVER_TLS_KEY: join(dir, 'key.pem'),
    });
    expect(config.tls).toBeDefined();
    const app = buildApp({ store: rx.store, log: createLogger({ level: 'silent' }), https: config.tls! });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as AddressInfo).port;
    const trusting = new Agent({ connect: { ca: readFileSync(join(dir, 'cert.pem')) } });
    const untrusting = new Agent();
    try {
      const ok = await request(`https://127.0.0.1:${port}/healthz`, { dispatcher: trusting });
      expect(ok.statusCode).toBe(200);
      expect(await ok.body.json()).toEqual({ status: 'ok' });
      const key = await addCenter(rx.store, 'TLS1');
      const post = await request(`https://127.0.0.1:${port}/api/v2/centers/TLS1/studies`, {
        dispatcher: trusting, method: 'POST', headers: { ...bearer(key), 'content-type': 'application/json' },
        body: JSON.stringify({ records: [record('tls.1', 1)] }),
      });
      expect(((await post.body.json()) as { stored: number }).stored).toBe(1);
      const refused = await request(`https://127.0.0.1:${port}/healthz`, { dispatcher: untrusting }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(Error);
      expect(String((refused as { code?: string }).code)).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY|CERT/);
      const plain = await request(`http://127.0.0.1:${port}/healthz`, { dispatcher: untrusting, headersTimeout: 3000 }).then(
        (r) => r.statusCode,
        () => 'failed',
      );
      expect(plain).not.toBe(200);
    } finally {
      await trusting.close();
      await untrusting.close();
      await app.close();
    }
  });

  it('a certificate path that cannot be read stops the configuration with the variable named', () => {
    expect(() => loadReceiverConfig({ RECEIVER_DATABASE_URL: rx.db.url, RECEIVER_TLS_CERT: join(dir, 'missing.pem'), RECEIVER_TLS_KEY: join(dir, 'key.pem') }))
      .toThrow(/RECEIVER_TLS_CERT/);
    expect(() => loadReceiverConfig({ RECEIVER_DATABASE_URL: rx.db.url, RECEIVER_TLS_CERT: join(dir, 'cert.pem') })).toThrow(/RECEIVER_TLS_KEY/);
  });
});

describe('keys and tokens take effect at once', () => {
  it('a rotated key: the old one is refused on the very next request, the new one works', async () => {
    const old = await addCenter(rx.store, 'ROT');
    const send = (k: string) => http(rx.base, 'POST', '/api/v2/centers/ROT/studies', { headers: bearer(k), json: { records: [] } });
    expect((await send(old)).status).toBe(200);
    const fresh = 'rotated-key-0123456789abcdef';
    await rx.store.access.rotateCenterKey('ROT', hashSecret(fresh));
    expect((await send(old)).status).toBe(401);
    expect((await send(fresh)).status).toBe(200);
  });

  it('disabling a centre refuses its key on the next request, also for reconcile; nothing is stored', async () => {
    const key = await addCenter(rx.store, 'OFF');
    expect((await http(rx.base, 'GET', '/api/v2/centers/OFF/reconcile/days', { headers: bearer(key) })).status).toBe(200);
    await rx.store.access.setCenterEnabled('OFF', false);
    const r = await http(rx.base, 'POST', '/api/v2/centers/OFF/studies', { headers: bearer(key), json: { records: [record('off.1', 1)] } });
    expect(r.status).toBe(403);
    expect(r.json).toEqual({ error: 'center_disabled', message: 'centre OFF is disabled' });
    expect((await http(rx.base, 'GET', '/api/v2/centers/OFF/reconcile/days', { headers: bearer(key) })).status).toBe(403);
    const [rows] = await rx.pool.query('SELECT 1 FROM studies WHERE study_iuid = ?', ['off.1']);
    expect(rows).toEqual([]);
  });

  it('a revoked read token is refused on the next request', async () => {
    const t = await addToken(rx.store, 'soon-revoked');
    expect((await http(rx.base, 'GET', '/api/v2/studies', { headers: bearer(t) })).status).toBe(200);
    await rx.store.access.revokeToken('soon-revoked');
    expect((await http(rx.base, 'GET', '/api/v2/studies', { headers: bearer(t) })).status).toBe(401);
  });
});

describe('per-key rate limit', () => {
  it('429 with Retry-After for a read token over its burst; a centre key and another token are unaffected', async () => {
    const limited = await startReceiver('rx_rate_read', { rateLimits: { perPrincipalPerSecond: 2 } });
    try {
      const t1 = await addToken(limited.store, 'r1');
      const t2 = await addToken(limited.store, 'r2');
      const key = await addCenter(limited.store, 'RL');
      const statuses = [];
      for (let i = 0; i < 6; i += 1) statuses.push((await http(limited.base, 'GET', '/api/v2/centers', { headers: bearer(t1) })).status);
      expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
      const refused = await http(limited.base, 'GET', '/api/v2/centers', { headers: bearer(t1) });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(refused.json.error).toBe('rate_limited');
      expect((await http(limited.base, 'GET', '/api/v2/centers', { headers: bearer(t2) })).status).toBe(200);
      expect((await http(limited.base, 'POST', '/api/v2/centers/RL/studies', { headers: bearer(key), json: { records: [] } })).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
