import { createServer as createHttpsServer } from 'node:https';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { listenOnLoopback, type Listening } from './loopback-server.js';

/**
 * A fault-injecting HTTP proxy between agent and receiver (loopback only). By default it passes
 * requests through, optionally after `latencyMs`. A fault applies to the next `count` requests,
 * or to every request until `forMs` has elapsed, whichever is given:
 * - status: answers itself (500, 429 with Retry-After, …) without forwarding;
 * - hang: reads the request and never answers (the agent's timeout must fire);
 * - close: destroys the connection once the request headers arrived (mid-request);
 * - drop-answer: forwards (the receiver stores), then destroys the connection instead of answering.
 * `enqueue` lines up one-request faults (applied first, in order), optionally only for matching
 * requests. Every request is logged in `exchanges` (bodies decoded), so a test counts batches or
 * reads the receiver's answers without a stand-in receiver.
 */
export type ProxyFault =
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  | { kind: 'hang' }
  | { kind: 'close' }
  | { kind: 'drop-answer' };

/** Which requests a queued fault applies to (absent: any). */
export interface RequestMatch {
  method?: string;
  path?: RegExp;
}

/** One request through the proxy: its decoded body, and the answer (status 0: none was given). */
export interface Exchange {
  method: string;
  path: string;
  request: Buffer;
  status: number;
  answer: string;
}

interface ActiveFault {
  fault: ProxyFault;
  remaining: number;
  until: number;
}

export class FaultProxy {
  latencyMs = 0;
  /** Requests seen, and how each was handled. */
  readonly counts = { requests: 0, forwarded: 0, status: 0, hang: 0, close: 0, dropAnswer: 0, upstreamErrors: 0, maxInFlight: 0 };
  readonly exchanges: Exchange[] = [];
  /**
   * Records with these study_iuids are made invalid in transit (study_series: "corrupted"), so the
   * receiver itself rejects them, alone, with its own reason.
   */
  readonly corruptIuids = new Set<string>();
  private readonly queued: { fault: ProxyFault; match?: RequestMatch }[] = [];
  private inFlight = 0;
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

  /** One-request faults, taken in order by the next requests that match (before `inject`'s). */
  enqueue(match: RequestMatch | undefined, ...faults: ProxyFault[]): void {
    this.queued.push(...faults.map((fault) => ({ fault, match })));
  }

  clear(): void {
    this.active = undefined;
    this.queued.length = 0;
  }

  /** Requests seen that match (e.g. batch POSTs: `{ method: 'POST', path: /\/studies$/ }`). */
  count(match: RequestMatch, status?: number): number {
    return this.exchanges.filter((e) => matches(match, e.method, e.path) && (status === undefined || e.status === status)).length;
  }

  /** Faults still to be applied (0 once a count ran out or the window ended). */
  get pending(): number {
    const a = this.active;
    if (!a || a.until < Date.now()) return this.queued.length;
    return a.remaining + this.queued.length;
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

  private take(req: IncomingMessage): ProxyFault | undefined {
    const i = this.queued.findIndex((q) => !q.match || matches(q.match, req.method ?? '', req.url ?? ''));
    if (i >= 0) return this.queued.splice(i, 1)[0]!.fault;
    const a = this.active;
    if (!a || a.remaining <= 0 || a.until < Date.now()) return undefined;
    a.remaining -= 1;
    return a.fault;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.counts.requests += 1;
    this.inFlight += 1;
    this.counts.maxInFlight = Math.max(this.counts.maxInFlight, this.inFlight);
    res.on('close', () => (this.inFlight -= 1));
    const exchange: Exchange = { method: req.method ?? '', path: req.url ?? '', request: Buffer.alloc(0), status: 0, answer: '' };
    this.exchanges.push(exchange);
    const fault = this.take(req);
    if (fault?.kind === 'close') {
      this.counts.close += 1;
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let body: Buffer = Buffer.concat(chunks);
    exchange.request = req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
    if (this.corruptIuids.size > 0 && req.method === 'POST') body = this.corrupt(req, exchange.request) ?? body;
    if (fault?.kind === 'hang') {
      this.counts.hang += 1;
      return;
    }
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    if (fault?.kind === 'status') {
      this.counts.status += 1;
      exchange.status = fault.status;
      exchange.answer = fault.body ?? '{"error":"injected by the fault proxy"}';
      res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers });
      res.end(exchange.answer);
      return;
    }
    await this.forward(req, res, body, fault?.kind === 'drop-answer', exchange);
  }

  /** The body with the records to corrupt made invalid, sent uncompressed; undefined if none is in it. */
  private corrupt(req: IncomingMessage, decoded: Buffer): Buffer | undefined {
    let parsed: { records?: Record<string, unknown>[] } & Record<string, unknown>;
    try {
      parsed = JSON.parse(decoded.toString('utf8')) as typeof parsed;
    } catch {
      return undefined;
    }
    const records = Array.isArray(parsed.records) ? parsed.records : [parsed];
    const hit = records.filter((r) => this.corruptIuids.has(String(r?.study_iuid)));
    if (hit.length === 0) return undefined;
    for (const r of hit) r.study_series = 'corrupted';
    const out = Buffer.from(JSON.stringify(parsed));
    delete req.headers['content-encoding'];
    req.headers['content-length'] = String(out.length);
    return out;
  }

  private forward(req: IncomingMessage, res: ServerResponse, body: Buffer, dropAnswer: boolean, exchange: Exchange): Promise<void> {
    return new Promise((resolve) => {
      const upstream = httpRequest(`${this.target}${req.url ?? '/'}`, { method: req.method, headers: { ...req.headers, host: new URL(this.target).host } }, (up) => {
        const parts: Buffer[] = [];
        up.on('data', (c: Buffer) => parts.push(c));
        up.on('end', () => {
          exchange.status = dropAnswer ? 0 : up.statusCode ?? 502;
          exchange.answer = Buffer.concat(parts).toString('utf8');
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

function matches(match: RequestMatch, method: string, path: string): boolean {
  return (match.method === undefined || match.method === method) && (match.path === undefined || match.path.test(path));
}

export function startFaultProxy(target: string, tls?: { key: string; cert: string }): Promise<FaultProxy> {
  return new FaultProxy(target, tls).start();
}
