import { createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Agent } from 'undici';
import { createHttpAgent, requestWithRetry } from '../../../src/agent/http/http-transport.js';
import type { FailureMapping, RequestFailure } from '../../../src/agent/http/request-failures.js';
import { IndexerError } from '../../../src/shared/errors.js';
import { endless, selfSignedCertificate, sendJson, startHostileServer, startHostileTlsServer, trickle, type HostileServer } from '../../helpers/hostile-server.js';
import { silentLog } from '../support/agent-harness.js';

/**
 * The agent's one request path: the transport decides what is retried, the caller's failure
 * mapping decides what a failure means (the receiver's RECEIVER_* errors by default; Orthanc maps
 * them into the database family).
 */
const http = { timeout_ms: 2000, deadline_ms: 5000, max_response_bytes: 1 << 20, retries: 2, min_backoff_ms: 1, max_backoff_ms: 10, ca_file: null };
const signal = new AbortController().signal;

/** A mapping that records what it was given and throws a recognisable error. */
function recording(): { failures: FailureMapping; seen: RequestFailure[] } {
  const seen: RequestFailure[] = [];
  return {
    seen,
    failures: (failure, request) => {
      seen.push(failure);
      return new IndexerError('DB_UNREACHABLE', `mapped ${failure.kind} of ${request.method} ${new URL(request.url).pathname}`);
    },
  };
}

async function failure(p: Promise<unknown>): Promise<{ code?: string; message: string; hint?: string }> {
  try {
    await p;
  } catch (err) {
    return err as { code?: string; message: string; hint?: string };
  }
  throw new Error('expected the request to fail');
}

describe('requestWithRetry', () => {
  let server: HostileServer | undefined;
  let agent: Agent | undefined;
  afterEach(async () => {
    await agent?.close();
    await server?.close();
    server = agent = undefined;
  });
  const send = (url: string, mapping?: FailureMapping, over: object = {}) => {
    agent = createHttpAgent({ ...http, ...over }, 1);
    return requestWithRetry(url, { method: 'GET', headers: {} }, { agent, http: { ...http, ...over }, log: silentLog, signal, what: {}, failures: mapping });
  };

  it('maps 401/403 through the caller\'s mapping, once', async () => {
    server = await startHostileServer((_req, res) => sendJson(res, 403, { error: 'forbidden' }));
    const r = recording();
    const f = await failure(send(`${server.url}/system`, r.failures));
    expect(f).toMatchObject({ code: 'DB_UNREACHABLE', message: 'mapped refused of GET /system' });
    expect(r.seen).toMatchObject([{ kind: 'refused', status: 403 }]);
    expect(server.requests).toBe(1);
  });

  it('retries 5xx, then maps "unavailable" with the attempts and the last status', async () => {
    server = await startHostileServer((_req, res) => sendJson(res, 503, {}));
    const r = recording();
    const f = await failure(send(`${server.url}/x`, r.failures));
    expect(f.message).toBe('mapped unavailable of GET /x');
    expect(r.seen).toMatchObject([{ kind: 'unavailable', attempts: 3, status: 503, timedOut: false }]);
    expect(server.requests).toBe(3);
  });

  it('no retries: one request, and a deadline is reported as a timeout', async () => {
    server = await startHostileServer((_req, res) => {
      res.writeHead(200);
      trickle(res, 50, 10_000, server!);
    });
    const r = recording();
    await failure(send(`${server.url}/slow`, r.failures, { retries: 0, deadline_ms: 400 }));
    expect(r.seen).toMatchObject([{ kind: 'unavailable', attempts: 1, status: undefined, timedOut: true }]);
    expect(server.requests).toBe(1);
  });

  it('maps an oversized answer with the cap, not retried', async () => {
    server = await startHostileServer((_req, res) => {
      res.writeHead(200);
      endless(res, Buffer.alloc(64 * 1024, ' '), server!);
    });
    const r = recording();
    await failure(send(`${server.url}/big`, r.failures));
    expect(r.seen).toMatchObject([{ kind: 'too-large', cap: 1 << 20 }]);
    expect(server.requests).toBe(1);
  });

  it('maps an untrusted certificate as permanent, not retried', async () => {
    const tls = selfSignedCertificate();
    try {
      server = await startHostileTlsServer(tls, (_req, res) => sendJson(res, 200, {}));
      const r = recording();
      await failure(send(`${server.url}/`, r.failures));
      expect(r.seen).toHaveLength(1);
      expect(r.seen[0]).toMatchObject({ kind: 'permanent' });
      expect((r.seen[0] as { reason: string }).reason).toMatch(/not trusted/);
      expect(server.connections).toBe(1);
    } finally {
      tls.cleanup();
    }
  });

  it('without a mapping, failures are the receiver\'s (RECEIVER_*), as before', async () => {
    server = await startHostileServer((_req, res) => sendJson(res, 401, { error: 'unauthorized', message: 'unknown key' }));
    expect(await failure(send(`${server.url}/api`))).toMatchObject({ code: 'RECEIVER_AUTH', message: 'receiver refused the centre key (HTTP 401): unknown key' });
    await server.close();
    server = await startHostileServer((_req, res) => sendJson(res, 500, {}));
    const f = await failure(send(`${server.url}/api`, undefined, { retries: 1 }));
    expect(f.code).toBe('RECEIVER_UNAVAILABLE');
    expect(f.message).toBe(`receiver ${server.url} unavailable after 2 attempts (last: HTTP 500)`);
    expect(f.hint).toMatch(/next run resends/);
  });

  it('a peer that does not answer HTTP fails at once as permanent, not retried as an outage', async () => {
    let connections = 0;
    const sockets = new Set<Socket>();
    const peer = createServer((socket) => {
      connections += 1;
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.end('SSH-2.0-OpenSSH_9.2\r\nnot http at all\r\n\r\n');
    });
    await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
    const { port } = peer.address() as { port: number };
    try {
      const f = await failure(send(`http://127.0.0.1:${port}/api`, undefined, { retries: 3 }));
      expect(f.message).toMatch(/the answer is not HTTP \(HPE_[A-Z_]+\).*not retried/);
      expect(connections).toBe(1);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => peer.close(resolve));
    }
  });
});
