import { execFileSync } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listenOnLoopback, type Listening } from './loopback-server.js';

/**
 * A misbehaving HTTP peer on loopback (a broken or hostile receiver, a broken Orthanc): each
 * request is answered by `behave`. Counts TCP connections, so a test can tell one attempt from
 * seven without timing anything.
 */
export type Behaviour = (req: IncomingMessage, res: ServerResponse) => void;

export interface HostileServer {
  url: string;
  port: number;
  /** TCP connections accepted (for TLS servers: before the handshake, so failed handshakes count). */
  connections: number;
  /** HTTP requests received (a client may open a spare connection after an abort: count these for attempts). */
  requests: number;
  /** Bytes written into answer bodies so far. */
  bytesSent: number;
  close(): Promise<void>;
}

/** Writes `chunk` for ever (respecting backpressure) until the client goes away. */
export function endless(res: ServerResponse, chunk: Buffer, server: { bytesSent: number }): void {
  const pump = (): void => {
    while (!res.destroyed) {
      server.bytesSent += chunk.length;
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
  };
  pump();
}

/** One byte every `everyMs`, for at most `forMs`: each byte resets an idle timeout, nothing ends. */
export function trickle(res: ServerResponse, everyMs: number, forMs: number, server: { bytesSent: number }): void {
  const started = Date.now();
  const timer = setInterval(() => {
    if (res.destroyed || Date.now() - started > forMs) {
      clearInterval(timer);
      res.destroy();
      return;
    }
    server.bytesSent += 1;
    res.write(' ');
  }, everyMs);
  res.on('close', () => clearInterval(timer));
}

async function serve(server: Server, behave: Behaviour, scheme: 'http' | 'https'): Promise<HostileServer> {
  const state = { connections: 0, requests: 0, bytesSent: 0 };
  server.on('connection', () => (state.connections += 1));
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    state.requests += 1;
    req.resume();
    req.on('end', () => behave(req, res));
  });
  server.on('tlsClientError', () => undefined);
  const listening: Listening = await listenOnLoopback(server, scheme === 'https' ? 'secureConnection' : 'connection');
  return {
    url: `${scheme}://127.0.0.1:${listening.port}`,
    port: listening.port,
    get connections() {
      return state.connections;
    },
    get requests() {
      return state.requests;
    },
    get bytesSent() {
      return state.bytesSent;
    },
    set bytesSent(n: number) {
      state.bytesSent = n;
    },
    close: () => listening.close(),
  };
}

export function startHostileServer(behave: Behaviour): Promise<HostileServer> {
  return serve(createServer(), behave, 'http');
}

export function startHostileTlsServer(tls: { key: string; cert: string }, behave: Behaviour): Promise<HostileServer> {
  return serve(createHttpsServer(tls), behave, 'https');
}

/** A self-signed certificate for 127.0.0.1 only (not "localhost"), made with the openssl CLI. */
export function selfSignedCertificate(): { key: string; cert: string; certFile: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'hostile-tls-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile,
    '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
  ], { stdio: 'ignore' });
  return {
    key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
