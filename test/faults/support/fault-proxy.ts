import { createServer as createHttpsServer } from 'node:https';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback, type Listening } from '../../helpers/loopback-server.js';

/**
 * A fault-injecting HTTP proxy between agent and receiver (loopback only). By default it passes
 * requests through, optionally after `latencyMs`. A fault applies to the next `count` requests,
 * or to every request until `forMs` has elapsed, whichever is given:
 * - status: answers itself (500, 429 with Retry-After, …) without forwarding;
 * - hang: reads the request and never answers (the agent's timeout must fire);
 * - close: destroys the connection once the request headers arrived (mid-request);
 * - drop-answer: forwards (the receiver stores), then destroys the connection instead of answering.
 */
export type ProxyFault =
  | { kind: 'status'; status: number; headers?: Record<string, string> }
  | { kind: 'hang' }
  | { kind: 'close' }
  | { kind: 'drop-answer' };

interface ActiveFault {
  fault: ProxyFault;
  remaining: number;
  until: number;
}

export class FaultProxy {
  latencyMs = 0;
  /** Requests seen, and how each was handled. */
  readonly counts = { requests: 0, forwarded: 0, status: 0, hang: 0, close: 0, dropAnswer: 0, upstreamErrors: 0 };
  private active: ActiveFault | undefined;
  private listening: Listening | undefined;
  private port = 0;

  /** With `tls` (PEM key and certificate) the proxy serves HTTPS: a receiver behind TLS. */
  constructor(private readonly target: string, private readonly tls?: { key: string; cert: string }) {}

  get url(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  /** Injects `fault` for the next `count` requests, or for `forMs` milliseconds. */
  inject(fault: ProxyFault, limit: { count?: number; forMs?: number }): void {
    this.active = { fault, remaining: limit.count ?? Number.POSITIVE_INFINITY, until: limit.forMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + limit.forMs };
  }

  clear(): void {
    this.active = undefined;
  }

  /** Faults still to be applied (0 once a count ran out or the window ended). */
  get pending(): number {
    const a = this.active;
    if (!a || a.until < Date.now()) return 0;
    return a.remaining;
  }

  async start(): Promise<this> {
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    const server = this.tls ? createHttpsServer(this.tls, handler) : createServer(handler);
    this.listening = await listenOnLoopback(server, this.tls ? 'secureConnection' : 'connection');
    this.port = this.listening.port;
    return this;
  }

  async close(): Promise<void> {
    await this.listening?.close();
  }

  private take(): ProxyFault | undefined {
    const a = this.active;
    if (!a || a.remaining <= 0 || a.until < Date.now()) return undefined;
    a.remaining -= 1;
    return a.fault;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.counts.requests += 1;
    const fault = this.take();
    if (fault?.kind === 'close') {
      this.counts.close += 1;
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (fault?.kind === 'hang') {
      this.counts.hang += 1;
      return;
    }
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    if (fault?.kind === 'status') {
      this.counts.status += 1;
      res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers });
      res.end('{"error":"injected by the fault proxy"}');
      return;
    }
    await this.forward(req, res, Buffer.concat(chunks), fault?.kind === 'drop-answer');
  }

  private forward(req: IncomingMessage, res: ServerResponse, body: Buffer, dropAnswer: boolean): Promise<void> {
    return new Promise((resolve) => {
      const upstream = httpRequest(`${this.target}${req.url ?? '/'}`, { method: req.method, headers: { ...req.headers, host: new URL(this.target).host } }, (up) => {
        const parts: Buffer[] = [];
        up.on('data', (c: Buffer) => parts.push(c));
        up.on('end', () => {
          if (dropAnswer) {
            this.counts.dropAnswer += 1;
            req.socket.destroy();
          } else {
            this.counts.forwarded += 1;
            res.writeHead(up.statusCode ?? 502, up.headers);
            res.end(Buffer.concat(parts));
          }
          resolve();
        });
        up.on('error', () => resolve());
      });
      upstream.on('error', () => {
        // The receiver is down: to the agent this looks like a dropped connection.
        this.counts.upstreamErrors += 1;
        req.socket.destroy();
        resolve();
      });
      upstream.end(body);
    });
  }
}

export function startFaultProxy(target: string, tls?: { key: string; cert: string }): Promise<FaultProxy> {
  return new FaultProxy(target, tls).start();
}
