import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { hashDigest } from '../../src/shared/content-hash.js';
import type { StudyRecord } from '../../src/shared/study-record.js';
import { listenOnLoopback, type Listening } from './loopback-server.js';

/**
 * A stand-in for the receiver over real HTTP (ephemeral port), with the v2 batch semantics kept in
 * memory (highest source_seq per (center, study_iuid) wins) and the legacy endpoint, plus fault
 * injection. Faults apply to the next requests of either endpoint, in the order they were queued.
 */
export type Fault =
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  | { kind: 'hang' }
  | { kind: 'reset' };

export interface FakeReceiverOptions {
  /** center → write key; a key of another centre gets 403, an unknown one 401. */
  keys: Record<string, string>;
}

export class FakeReceiver {
  readonly records = new Map<string, StudyRecord>();
  readonly legacy = new Map<string, Record<string, unknown>>();
  readonly counts = { requests: 0, batches: 0, stored: 0, unchanged: 0, stale: 0, rejected: 0, legacyPosts: 0, maxInFlight: 0, reconcileRequests: 0, floorRequests: 0 };
  /** Sizes of the v2 batches received, in order. */
  readonly batchSizes: number[] = [];
  /** Answer 413 to batches with more records than this. */
  maxBatchRecords = Infinity;
  private inFlight = 0;
  /** study_iuids the receiver rejects (as a validation failure). */
  readonly rejectIuids = new Set<string>();
  /** Added before every answer, to make a pass slow enough to be killed mid-way. */
  delayMs = 0;
  private readonly faults: Fault[] = [];
  /**
   * Serve GET /api/v2/centers/{c}/source-seq (the highest source_seq held for the centre). Kept
   * apart from `requests` and the faults, so tests counting batch requests are not affected;
   * false: 404, as an older receiver answers.
   */
  serveVersionFloor = true;
  /** Faults for the next POSTs only (taken before `inject`'s), e.g. to fail a repair after its reads. */
  readonly postFaults: Fault[] = [];
  private listening: Listening | undefined;
  private port = 0;

  constructor(private readonly options: FakeReceiverOptions) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get legacyUrl(): string {
    return `${this.url}/api/v1/register`;
  }

  /** Faults for the next requests, one request each. */
  inject(...faults: Fault[]): void {
    this.faults.push(...faults);
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  get pendingFaults(): number {
    return this.faults.length;
  }

  /** Live and deleted records of a centre, keyed by study_iuid. */
  forCenter(center: string): Map<string, StudyRecord> {
    const out = new Map<string, StudyRecord>();
    for (const r of this.records.values()) if (r.center === center) out.set(r.study_iuid, r);
    return out;
  }

  async start(): Promise<this> {
    this.listening = await listenOnLoopback(createServer((req, res) => void this.handle(req, res)));
    this.port = this.listening.port;
    return this;
  }

  async close(): Promise<void> {
    await this.listening?.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const floor = /^\/api\/v2\/centers\/([^/]+)\/source-seq$/.exec(req.url ?? '');
    if (req.method === 'GET' && floor) return this.handleFloor(req, res, decodeURIComponent(floor[1]!));
    this.counts.requests += 1;
    this.inFlight += 1;
    this.counts.maxInFlight = Math.max(this.counts.maxInFlight, this.inFlight);
    res.on('close', () => (this.inFlight -= 1));
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const fault = (req.method === 'POST' ? this.postFaults.shift() : undefined) ?? this.faults.shift();
    if (fault?.kind === 'hang') return; // never answers; the client must time out
    if (fault?.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (fault?.kind === 'status') {
      res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers });
      res.end(fault.body ?? '{"error":"injected"}');
      return;
    }
    let body = Buffer.concat(chunks);
    if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
    const v2 = /^\/api\/v2\/centers\/([^/]+)\/studies$/.exec(req.url ?? '');
    if (req.method === 'POST' && v2) return this.handleBatch(req, res, decodeURIComponent(v2[1]!), body);
    if (req.method === 'POST' && req.url === '/api/v1/register') return this.handleLegacy(req, res, body);
    const reconcile = /^\/api\/v2\/centers\/([^/]+)\/reconcile\/(days|studies)(?:\?(.*))?$/.exec(req.url ?? '');
    if (req.method === 'GET' && reconcile) return this.handleReconcile(req, res, decodeURIComponent(reconcile[1]!), reconcile[2]!, reconcile[3] ?? '');
    send(res, 404, { error: 'not found' });
  }

  private keyCenter(key: string | undefined): string | undefined {
    return Object.entries(this.options.keys).find(([, k]) => k === key)?.[0];
  }

  private handleBatch(req: IncomingMessage, res: ServerResponse, center: string, body: Buffer): void {
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    const owner = this.keyCenter(auth?.[1]);
    if (!owner) return send(res, 401, { error: 'unknown key' });
    if (owner !== center) return send(res, 403, { error: 'key of another centre' });
    let parsed: { records?: unknown };
    try {
      parsed = JSON.parse(body.toString('utf8')) as { records?: unknown };
    } catch {
      return send(res, 400, { error: 'not JSON' });
    }
    if (!Array.isArray(parsed.records)) return send(res, 400, { error: 'no records' });
    if (parsed.records.length > this.maxBatchRecords) return send(res, 413, { error: 'too large' });
    this.counts.batches += 1;
    this.batchSizes.push(parsed.records.length);
    const answer = { stored: 0, unchanged: 0, stale: 0, rejected: [] as { index: number; study_iuid: string; reason: string }[] };
    parsed.records.forEach((r: StudyRecord, index: number) => {
      if (!r || typeof r.study_iuid !== 'string' || !r.study_iuid || typeof r.source_seq !== 'number' || this.rejectIuids.has(r.study_iuid) || r.center !== center) {
        answer.rejected.push({ index, study_iuid: String(r?.study_iuid), reason: 'invalid record' });
        return;
      }
      const key = `${center}|${r.study_iuid}`;
      const prev = this.records.get(key);
      if (prev && prev.source_seq > r.source_seq) answer.stale += 1;
      else if (prev && prev.source_seq === r.source_seq) answer.unchanged += 1;
      else {
        this.records.set(key, r);
        answer.stored += 1;
      }
    });
    this.counts.stored += answer.stored;
    this.counts.unchanged += answer.unchanged;
    this.counts.stale += answer.stale;
    this.counts.rejected += answer.rejected.length;
    send(res, 200, answer);
  }

  private handleFloor(req: IncomingMessage, res: ServerResponse, center: string): void {
    this.counts.floorRequests += 1;
    req.resume();
    if (!this.serveVersionFloor) return send(res, 404, { error: 'not found' });
    if (!this.authorize(req, res, center)) return;
    const high = [...this.forCenter(center).values()].reduce<number | null>((m, r) => (m === null || r.source_seq > m ? r.source_seq : m), null);
    send(res, 200, { center, highest_source_seq: high });
  }

  /** Whether the bearer key may act for `center`; answers 401/403 itself when not. */
  private authorize(req: IncomingMessage, res: ServerResponse, center: string): boolean {
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    const owner = this.keyCenter(auth?.[1]);
    if (!owner) send(res, 401, { error: 'unknown key' });
    else if (owner !== center) send(res, 403, { error: 'key of another centre' });
    return owner === center;
  }

  /**
   * The reconcile endpoints (same spec as the receiver): per-day count and BIT_XOR of
   * hashDigest(content_hash) over live studies; a day's studies, tombstones included.
   */
  private handleReconcile(req: IncomingMessage, res: ServerResponse, center: string, what: string, query: string): void {
    if (!this.authorize(req, res, center)) return;
    this.counts.reconcileRequests += 1;
    const dayOf = (r: StudyRecord) => (r.study_datetime ? r.study_datetime.slice(0, 10) : 'undated');
    const held = [...this.forCenter(center).values()];
    if (what === 'days') {
      const days = new Map<string, { count: number; digest: bigint }>();
      for (const r of held) {
        if (r.deleted) continue;
        const d = days.get(dayOf(r)) ?? { count: 0, digest: 0n };
        d.count += 1;
        if (r.content_hash) d.digest ^= hashDigest(r.content_hash);
        days.set(dayOf(r), d);
      }
      return send(res, 200, { items: [...days].map(([day, d]) => ({ day, count: d.count, digest: d.digest.toString() })) });
    }
    const day = new URLSearchParams(query).get('day') ?? '';
    if (!/^(\d{4}-\d{2}-\d{2}|undated)$/.test(day)) return send(res, 400, { error: 'bad day' });
    const items = held.filter((r) => dayOf(r) === day)
      .map((r) => ({ study_iuid: r.study_iuid, source_seq: r.source_seq, content_hash: r.content_hash ?? null, deleted: r.deleted }));
    send(res, 200, { items });
  }

  private handleLegacy(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const key = req.headers['x-api-key'];
    if (!this.keyCenter(Array.isArray(key) ? key[0] : key)) return send(res, 401, { status: 'Error' });
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      return send(res, 400, { status: 'Error' });
    }
    this.counts.legacyPosts += 1;
    this.legacy.set(`${String(r.center)}|${String(r.study_iuid)}`, r);
    send(res, 201, { status: 'Ok' });
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export async function startFakeReceiver(options: FakeReceiverOptions): Promise<FakeReceiver> {
  return new FakeReceiver(options).start();
}
