import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CenterSummary } from '../store/access-store.js';
import type { StoredHeartbeat } from '../store/heartbeat-store.js';

/** Each centre's latest heartbeat and how it is judged, for the per-centre gauges at scrape time. */
export interface HeartbeatView {
  latest: Map<string, StoredHeartbeat>;
  nowMs: number;
  silentAfterS: number;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type IngestOutcome = 'stored' | 'unchanged' | 'stale' | 'rejected';

let processRegistry: Registry | undefined;

/**
 * Process, GC and event-loop-lag metrics describe the process, not one app: one registry per
 * process (tests build many apps; each would start its own GC observer and loop monitor).
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** The receiver's metrics (prom-client), one registry per app instance, plus the process's. */
export class Metrics {
  private readonly registry = new Registry();
  readonly contentType = this.registry.contentType;
  private readonly requests = new Counter({
    name: 'receiver_http_requests_total', help: 'HTTP requests by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const, registers: [this.registry],
  });
  private readonly ingested = new Counter({
    name: 'receiver_ingest_records_total', help: 'Ingested records by centre and outcome.',
    labelNames: ['center', 'outcome'] as const, registers: [this.registry],
  });
  private readonly normalised = new Counter({
    name: 'receiver_ingest_normalised_total', help: 'Stored values nulled (unusable) or truncated (too long), by centre and field.',
    labelNames: ['center', 'field'] as const, registers: [this.registry],
  });
  private readonly batchSeconds = new Histogram({
    name: 'receiver_ingest_batch_seconds', help: 'Time to store one ingest request.', buckets: LATENCY_BUCKETS, registers: [this.registry],
  });
  private readonly rateLimited = new Counter({
    name: 'receiver_rate_limited_total', help: 'Requests refused 429, by limit (address, auth_failures, principal).',
    labelNames: ['limit'] as const, registers: [this.registry],
  });
  private readonly authLookups = new Counter({
    name: 'receiver_auth_lookups_total', help: 'Keys and tokens looked up in the database.', registers: [this.registry],
  });
  private readonly bodyBytesInFlight = new Gauge({
    name: 'receiver_body_bytes_in_flight', help: 'Decoded request body bytes held by requests in flight.', registers: [this.registry],
  });
  private readonly bodiesRefused = new Counter({
    name: 'receiver_bodies_refused_busy_total', help: 'Requests answered 503 because bodies in flight were at their limit.', registers: [this.registry],
  });
  private readonly lastSeen = new Gauge({
    name: 'receiver_center_last_seen_seconds', help: 'Unix time of the last ingest from each centre.',
    labelNames: ['center'] as const, registers: [this.registry],
  });

  // Per centre, from the stored heartbeats at scrape time: as many series as centres, no more.
  private readonly centerBacklog = new Gauge({
    name: 'indexer_center_backlog', help: "Changes queued at the centre's agent, not yet delivered (its latest heartbeat).",
    labelNames: ['center'] as const, registers: [this.registry],
  });
  private readonly centerOldestUnsent = new Gauge({
    name: 'indexer_center_oldest_unsent_age_seconds', help: "Age of the oldest change not yet delivered by the centre's agent (its latest heartbeat).",
    labelNames: ['center'] as const, registers: [this.registry],
  });
  private readonly centerContactAge = new Gauge({
    name: 'indexer_center_last_contact_age_seconds', help: "Seconds since the centre's agent last posted a heartbeat.",
    labelNames: ['center'] as const, registers: [this.registry],
  });
  private readonly centerSilent = new Gauge({
    name: 'indexer_center_silent', help: '1 when the centre has not posted a heartbeat within RECEIVER_HEARTBEAT_SILENT_AFTER_S (never reported: 1).',
    labelNames: ['center'] as const, registers: [this.registry],
  });

  /** `route` is the route pattern, never the URL (it may hold patient identifiers). */
  countRequest(method: string, route: string, status: number): void {
    this.requests.inc({ method, route, status: String(status) });
  }

  countIngest(center: string, outcome: IngestOutcome, n: number): void {
    if (n > 0) this.ingested.inc({ center, outcome }, n);
  }

  /** Values nulled or truncated on the way in, per centre and field (`counts`: field → n). */
  countNormalised(center: string, counts: Readonly<Record<string, number>>): void {
    for (const [field, n] of Object.entries(counts)) if (n > 0) this.normalised.inc({ center, field }, n);
  }

  countRateLimited(limit: string): void {
    this.rateLimited.inc({ limit });
  }

  /** One key or token looked up in the database. */
  countAuthLookup(): void {
    this.authLookups.inc();
  }

  setBodyBytesInFlight(bytes: number): void {
    this.bodyBytesInFlight.set(bytes);
  }

  countBodyRefused(): void {
    this.bodiesRefused.inc();
  }

  observeIngestSeconds(seconds: number): void {
    this.batchSeconds.observe(seconds);
  }

  /** The Prometheus text exposition; `centers` gives each centre's last contact, `beats` its agent's health. */
  async render(centers: CenterSummary[], beats?: HeartbeatView): Promise<string> {
    this.lastSeen.reset();
    for (const c of centers) if (c.last_seen !== null) this.lastSeen.set({ center: c.code }, Date.parse(c.last_seen) / 1000);
    if (beats) this.setCenterHealth(centers, beats);
    return `${await this.registry.metrics()}\n${await processMetrics().metrics()}`;
  }

  private setCenterHealth(centers: CenterSummary[], { latest, nowMs, silentAfterS }: HeartbeatView): void {
    for (const g of [this.centerBacklog, this.centerOldestUnsent, this.centerContactAge, this.centerSilent]) g.reset();
    for (const c of centers) {
      const beat = latest.get(c.code);
      const center = { center: c.code };
      if (!beat) {
        this.centerSilent.set(center, 1);
        continue;
      }
      const age = Math.max(0, (nowMs - Date.parse(beat.received_at)) / 1000);
      this.centerContactAge.set(center, age);
      this.centerSilent.set(center, age > silentAfterS ? 1 : 0);
      if (typeof beat.body.backlog === 'number') this.centerBacklog.set(center, beat.body.backlog);
      if (typeof beat.body.oldest_unsent_age_s === 'number') this.centerOldestUnsent.set(center, beat.body.oldest_unsent_age_s);
    }
  }
}
