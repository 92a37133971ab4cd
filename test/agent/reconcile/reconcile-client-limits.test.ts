import { afterEach, describe, expect, it } from 'vitest';
import { createReconcileClient } from '../../../src/agent/reconcile/reconcile-client.js';
import { endless, sendJson, startHostileServer, trickle, type HostileServer } from '../../helpers/hostile-server.js';
import { silentLog } from '../support/agent-harness.js';

/** The reconcile client shares delivery's limits: size cap, overall deadline, the receiver's own refusal message. */
const MiB = 1024 * 1024;
const signal = new AbortController().signal;
const http = { timeout_ms: 1000, retries: 2, min_backoff_ms: 1, max_backoff_ms: 20, ca_file: null };

async function failure(p: Promise<unknown>, ms = 15_000): Promise<{ code?: string; text: string; message: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([p, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`still running after ${ms} ms`)), ms)))]);
  } catch (err) {
    const e = err as { code?: string; message: string; hint?: string };
    return { code: e.code, message: e.message, text: `${e.message} ${e.hint ?? ''}` };
  } finally {
    clearTimeout(timer);
  }
  throw new Error('expected the request to fail');
}

describe('reconcile client against a hostile receiver', () => {
  let server: HostileServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  const client = (url: string, over: Record<string, unknown> = {}) =>
    createReconcileClient({ url, center: '000', key: 'k', http: { ...http, ...over } as never }, silentLog);

  it('an endless days answer fails at http.max_response_bytes, once', async () => {
    server = await startHostileServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"items":[');
      endless(res, Buffer.from('{"day":"2020-01-01","count":1,"digest":"1"},'.repeat(1000)), server!);
    });
    const c = client(server.url, { max_response_bytes: 2 * MiB });
    const f = await failure(c.days(signal));
    await c.close();
    expect(f.code).toBe('RECEIVER_PROTOCOL');
    expect(f.message).toContain(`${server.url}/api/v2/centers/000/reconcile/days`);
    expect(f.text).toContain('http.max_response_bytes (2097152 bytes)');
    expect(server.requests).toBe(1);
  });

  it('a trickling studies answer fails after http.deadline_ms', async () => {
    server = await startHostileServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      trickle(res, 200, 60_000, server!);
    });
    const c = client(server.url, { deadline_ms: 1200, retries: 1 });
    const f = await failure(c.studies('2020-01-01', signal), 10_000);
    await c.close();
    expect(f.code).toBe('RECEIVER_UNAVAILABLE');
    expect(f.text).toContain('http.deadline_ms (1200 ms)');
    expect(server.requests).toBe(2);
  });

  it('403 for a disabled centre says disabled', async () => {
    server = await startHostileServer((_req, res) => sendJson(res, 403, { error: 'center_disabled', message: 'centre 000 is disabled' }));
    const f = await failure(client(server.url).days(signal));
    expect(f.code).toBe('RECEIVER_AUTH');
    expect(f.message).toContain('centre 000 is disabled');
    expect(f.text).not.toMatch(/another centre|missing or unknown/);
  });

  it('404 names the URL and the message, and says to check url', async () => {
    server = await startHostileServer((_req, res) => sendJson(res, 404, { error: 'not_found', message: 'no such route' }));
    const f = await failure(client(`${server.url}/nope`).days(signal));
    expect(f.code).toBe('RECEIVER_PROTOCOL');
    expect(f.message).toContain(`${server.url}/nope/api/v2/centers/000/reconcile/days`);
    expect(f.message).toContain('no such route');
    expect(f.text).toMatch(/check url/);
    expect(server.requests).toBe(1);
  });
});
