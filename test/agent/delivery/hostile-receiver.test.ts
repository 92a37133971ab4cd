import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLegacyClient } from '../../../src/agent/delivery/legacy-client.js';
import { createReceiverClient } from '../../../src/agent/delivery/receiver-client.js';
import { tombstoneRecord } from '../../../src/agent/record/tombstone-record.js';
import { createLogger, type Logger } from '../../../src/shared/logger.js';
import type { StudyRecord } from '../../../src/shared/study-record.js';
import { freePort } from '../../../scripts/lib/free-port.js';
import {
  endless, selfSignedCertificate, sendJson, startHostileServer, startHostileTlsServer, trickle, type HostileServer,
} from '../../helpers/hostile-server.js';
import { silentLog, spawnCli } from '../support/agent-harness.js';

/**
 * The agent is a good guest on the PACS host whatever the receiver does: answers are read up to a
 * cap, every request has an overall deadline, permanent failures (unknown host, TLS mismatch,
 * wrong path) fail at once naming the URL, and the receiver's own refusal message is shown.
 */
const MiB = 1024 * 1024;
const signal = new AbortController().signal;
const http = { timeout_ms: 1000, retries: 3, min_backoff_ms: 1, max_backoff_ms: 20, ca_file: null as string | null };

function records(n: number): StudyRecord[] {
  return Array.from({ length: n }, (_, i) => ({ ...tombstoneRecord('000', `1.2.${i}`, i + 1, 1), deleted: false }));
}

/** A logger whose JSON lines are kept, to count attempts and find warnings. */
function capturingLog(): { log: Logger; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const log = createLogger({ level: 'debug', destination: { write: (s: string) => void out.push(s) } });
  return { log, lines: () => out.flatMap((s) => s.split('\n')).filter(Boolean).map((s) => JSON.parse(s) as Record<string, unknown>) };
}

/** Rejects when `p` has not settled within `ms` (a hang is a failure, not a test timeout). */
async function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still running after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function failure(p: Promise<unknown>, ms = 15_000): Promise<{ code?: string; message: string; hint?: string; text: string }> {
  try {
    await within(p, ms);
  } catch (err) {
    const e = err as { code?: string; message: string; hint?: string };
    return { code: e.code, message: e.message, hint: e.hint, text: `${e.message} ${e.hint ?? ''}` };
  }
  throw new Error('expected the request to fail');
}

const client = (url: string, over: Record<string, unknown> = {}, log: Logger = silentLog) =>
  createReceiverClient({ url, center: '000', key: 'k', batch_size: 10, max_in_flight: 1, http: { ...http, ...over } as never }, log);

describe('a hostile or broken receiver', () => {
  let server: HostileServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('an endless answer fails at the size cap, once, naming the URL and the cap (no retry storm)', async () => {
    server = await startHostileServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      endless(res, Buffer.alloc(64 * 1024, 'x'), server!);
    });
    const c = client(server.url, { max_response_bytes: MiB });
    const f = await failure(c.send(records(1), signal));
    await c.close();
    expect(f.code).toBe('RECEIVER_PROTOCOL');
    expect(f.message).toContain(`${server.url}/api/v2/centers/000/studies`);
    expect(f.text).toMatch(/http\.max_response_bytes/);
    expect(f.text).toContain(String(MiB));
    expect(server.requests).toBe(1);
    expect(server.bytesSent).toBeLessThan(64 * MiB);
  });

  it('a huge declared answer (Content-Length 800 MB) fails at the cap, once', async () => {
    server = await startHostileServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(800 * MiB) });
      endless(res, Buffer.alloc(64 * 1024, ' '), server!);
    });
    const c = client(server.url, { max_response_bytes: MiB });
    const f = await failure(c.send(records(1), signal));
    await c.close();
    expect(f.code).toBe('RECEIVER_PROTOCOL');
    expect(f.text).toMatch(/max_response_bytes/);
    expect(server.requests).toBe(1);
  });

  it('a trickling answer (a byte every 200 ms, under the idle timeout) fails after the overall deadline', async () => {
    server = await startHostileServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      trickle(res, 200, 60_000, server!);
    });
    const c = client(server.url, { deadline_ms: 1500, retries: 1 });
    const f = await failure(c.send(records(1), signal), 12_000);
    await c.close();
    expect(f.code).toBe('RECEIVER_UNAVAILABLE');
    expect(f.text).toMatch(/deadline/);
    expect(f.text).toContain('1500');
    // A deadline is an outage like any timeout: retried (1 retry → 2 requests).
    expect(server.requests).toBe(2);
  });

  it('404 from a wrong path names the URL, the receiver message and says to check url', async () => {
    server = await startHostileServer((_req, res) => sendJson(res, 404, { error: 'not_found', message: 'no such route' }));
    const c = client(`${server.url}/wrong`);
    const f = await failure(c.send(records(1), signal));
    await c.close();
    expect(f.code).toBe('RECEIVER_PROTOCOL');
    expect(f.message).toContain(`${server.url}/wrong/api/v2/centers/000/studies`);
    expect(f.message).toContain('no such route');
    expect(f.text).toMatch(/check `?url`?/);
    expect(server.requests).toBe(1);
  });

  it('400 from a wrong path (a server that is not the receiver) names the URL and its message', async () => {
    server = await startHostileServer((_req, res) => sendJson(res, 400, { statusCode: 400, error: 'Bad Request', message: 'Body is not valid JSON' }));
    const f = await failure(client(server.url).send(records(1), signal));
    expect(f.message).toContain(server.url);
    expect(f.message).toContain('Body is not valid JSON');
    expect(f.text).toMatch(/check `?url`?/);
  });

  it("http:// to a proxy's https port (its HTML 400) names the URL and the page title", async () => {
    server = await startHostileServer((_req, res) => {
      res.writeHead(400, { 'content-type': 'text/html' });
      res.end('<html>\r\n<head><title>400 The plain HTTP request was sent to HTTPS port</title></head>\r\n<body>…</body></html>');
    });
    const f = await failure(client(server.url).send(records(1), signal));
    expect(f.message).toContain(`${server.url}/api/v2/centers/000/studies`);
    expect(f.message).toContain('The plain HTTP request was sent to HTTPS port');
    expect(f.text).toMatch(/check `?url`?/);
    expect(server.requests).toBe(1);
  });

  it('a wrong legacy webservice_url names the URL, the message and says to check webservice_url', async () => {
    server = await startHostileServer((_req, res) => sendJson(res, 404, { error: 'not_found', message: 'no such route' }));
    const c = createLegacyClient({ webservice_url: `${server.url}/api/v1/regster`, key: 'k', max_in_flight: 1, http: http as never }, silentLog);
    const f = await failure(c.send(records(1), signal));
    await c.close();
    expect(f.message).toContain(`${server.url}/api/v1/regster`);
    expect(f.message).toContain('no such route');
    expect(f.text).toMatch(/check `?webservice_url`?/);
  });

  it("403 for a disabled centre shows the receiver's message, not the generic key hint", async () => {
    server = await startHostileServer((_req, res) => sendJson(res, 403, { error: 'center_disabled', message: 'centre 001 is disabled' }));
    const f = await failure(client(server.url).send(records(1), signal));
    expect(f.code).toBe('RECEIVER_AUTH');
    expect(f.message).toContain('centre 001 is disabled');
    expect(f.text).not.toMatch(/another centre|missing or unknown/);
    expect(server.requests).toBe(1);
  });

  it('401 still says missing or unknown key', async () => {
    server = await startHostileServer((_req, res) => sendJson(res, 401, { error: 'unauthorized', message: 'missing or unknown key' }));
    const f = await failure(client(server.url).send(records(1), signal));
    expect(f.code).toBe('RECEIVER_AUTH');
    expect(f.message).toMatch(/\(HTTP 401\)/);
    expect(f.text).toMatch(/missing or unknown key/);
  });

  it('an error message never carries credentials embedded in the URL', async () => {
    server = await startHostileServer((_req, res) => sendJson(res, 404, { error: 'not_found', message: 'no such route' }));
    const withLogin = server.url.replace('http://', 'http://alice:s3cr3t-pw@');
    const f = await failure(client(`${withLogin}/wrong`).send(records(1), signal));
    expect(f.message).toContain('127.0.0.1');
    expect(f.text).not.toContain('s3cr3t-pw');
    expect(f.text).not.toContain('alice');
  });
});

describe('permanent connection failures fail at once, naming the URL', () => {
  let cert: ReturnType<typeof selfSignedCertificate>;
  let server: HostileServer | undefined;
  beforeAll(() => {
    cert = selfSignedCertificate();
  });
  afterAll(() => cert?.cleanup());
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('an unknown host (ENOTFOUND) is tried once', async () => {
    const { log, lines } = capturingLog();
    const f = await failure(client('https://receiver.invalid:8443', { retries: 6, min_backoff_ms: 200 }, log).send(records(1), signal));
    expect(f.code).toBe('RECEIVER_UNAVAILABLE');
    expect(f.message).toContain('https://receiver.invalid:8443/api/v2/centers/000/studies');
    expect(f.text).toMatch(/ENOTFOUND/);
    expect(f.text).toMatch(/check `?url`?/);
    expect(lines().filter((l) => l.attempt !== undefined).length).toBeLessThanOrEqual(1);
  });

  it('a self-signed certificate is tried once (one TLS connection), naming the URL', async () => {
    server = await startHostileTlsServer(cert, (_req, res) => sendJson(res, 200, { stored: 0 }));
    const f = await failure(client(server.url, { retries: 4 }).send(records(1), signal));
    expect(f.code).toBe('RECEIVER_UNAVAILABLE');
    expect(f.message).toContain(`${server.url}/api/v2/centers/000/studies`);
    expect(f.text).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY/);
    expect(server.connections).toBe(1);
  });

  it('a certificate for another host name is tried once', async () => {
    server = await startHostileTlsServer(cert, (_req, res) => sendJson(res, 200, { stored: 0 }));
    const url = server.url.replace('127.0.0.1', 'localhost');
    const f = await failure(client(url, { retries: 4, ca_file: cert.certFile }).send(records(1), signal));
    expect(f.message).toContain(`${url}/api/v2/centers/000/studies`);
    expect(f.text).toMatch(/ALTNAME|host name/i);
    expect(server.connections).toBe(1);
  });

  it('https:// to a port that speaks plain HTTP is tried once', async () => {
    server = await startHostileServer((_req, res) => sendJson(res, 200, { stored: 0 }));
    const url = server.url.replace('http://', 'https://');
    const f = await failure(client(url, { retries: 4 }).send(records(1), signal));
    expect(f.code).toBe('RECEIVER_UNAVAILABLE');
    expect(f.message).toContain(url);
    expect(server.connections).toBe(1);
  });

  it('connection refused is still retried like an outage', async () => {
    const port = await freePort();
    const { log, lines } = capturingLog();
    const f = await failure(client(`http://127.0.0.1:${port}`, { retries: 2 }, log).send(records(1), signal));
    expect(f.code).toBe('RECEIVER_UNAVAILABLE');
    expect(f.text).toMatch(/ECONNREFUSED/);
    expect(lines().filter((l) => l.attempt !== undefined).length).toBe(3);
  });

  it('warns at pass start on a plain-http receiver URL that is not loopback, not on loopback', async () => {
    const remote = capturingLog();
    await client('http://receiver.invalid:8080', {}, remote.log).close();
    expect(remote.lines().some((l) => l.level === 40 && /plain http/i.test(String(l.msg)))).toBe(true);
    const local = capturingLog();
    await client('http://127.0.0.1:8080', {}, local.log).close();
    await client('http://localhost:8080', {}, local.log).close();
    await client('https://receiver.invalid', {}, local.log).close();
    expect(local.lines().some((l) => /plain http/i.test(String(l.msg)))).toBe(false);
  });
});

/** Peak resident memory of a running process, in bytes (VmHWM only grows). */
function peakRss(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

describe('the real CLI against an endless receiver', () => {
  it('`indexer check` fails at the default cap and its peak RSS stays bounded', { timeout: 60_000 }, async () => {
    const state = { bytesSent: 0 };
    const server = await startHostileServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      endless(res, Buffer.alloc(256 * 1024, 'x'), state);
    });
    const dir = mkdtempSync(join(tmpdir(), 'indexer-hostile-'));
    const deadDb = await freePort();
    const LIMIT = 256 * MiB;
    try {
      const { child, done } = spawnCli(['check'], dir, {
        INDEXER_URL: server.url, INDEXER_KEY: 'k', INDEXER_CENTER: '000', INDEXER_DB_PORT: String(deadDb), INDEXER_LOG_FORMAT: 'json',
      });
      let peak = 0;
      const poll = setInterval(() => {
        peak = Math.max(peak, peakRss(child.pid!));
        // Before the fix the agent reads for ever: stop it well before it hurts the test machine.
        if (peak > LIMIT || state.bytesSent > 2048 * MiB) child.kill('SIGKILL');
      }, 20);
      const r = await done;
      clearInterval(poll);
      expect(peak, `peak RSS ${Math.round(peak / MiB)} MiB`).toBeLessThan(LIMIT);
      // Not killed: it stopped reading by itself (the database line fails too: none is running).
      expect(r.signal, r.stdout + r.stderr).toBeNull();
      expect(r.code).not.toBe(0);
      expect(r.stdout).toMatch(/FAIL\s+receiver .*max_response_bytes \(33554432 bytes\)/);
      expect(server.requests).toBe(1);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
