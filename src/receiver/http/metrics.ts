import type { CenterSummary } from '../store/access-store.js';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Hand-written Prometheus text exposition: a few counters and one histogram, per instance. */
export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly ingested = new Map<string, number>();
  private readonly normalised = new Map<string, number>();
  private readonly buckets = LATENCY_BUCKETS.map(() => 0);
  private latencyCount = 0;
  private latencySum = 0;
  private readonly rateLimited = new Map<string, number>();
  private authLookups = 0;
  private bodyBytesInFlight = 0;
  private bodiesRefused = 0;

  /** `route` is the route pattern, never the URL (it may hold patient identifiers). */
  countRequest(method: string, route: string, status: number): void {
    const key = `method="${label(method)}",route="${label(route)}",status="${status}"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
  }

  countIngest(center: string, outcome: 'stored' | 'unchanged' | 'stale' | 'rejected', n: number): void {
    if (n === 0) return;
    const key = `center="${label(center)}",outcome="${outcome}"`;
    this.ingested.set(key, (this.ingested.get(key) ?? 0) + n);
  }

  /** Values nulled or truncated on the way in, per centre and field (`counts`: field → n). */
  countNormalised(center: string, counts: Readonly<Record<string, number>>): void {
    for (const [field, n] of Object.entries(counts)) {
      const key = `center="${label(center)}",field="${label(field)}"`;
      this.normalised.set(key, (this.normalised.get(key) ?? 0) + n);
    }
  }

  countRateLimited(limit: string): void {
    this.rateLimited.set(limit, (this.rateLimited.get(limit) ?? 0) + 1);
  }

  /** One key or token looked up in the database. */
  countAuthLookup(): void {
    this.authLookups += 1;
  }

  setBodyBytesInFlight(bytes: number): void {
    this.bodyBytesInFlight = bytes;
  }

  countBodyRefused(): void {
    this.bodiesRefused += 1;
  }

  observeIngestSeconds(seconds: number): void {
    this.latencyCount += 1;
    this.latencySum += seconds;
    LATENCY_BUCKETS.forEach((le, i) => {
      if (seconds <= le) this.buckets[i]! += 1;
    });
  }

  render(centers: CenterSummary[]): string {
    const lines: string[] = [
      '# HELP receiver_http_requests_total HTTP requests by method, route pattern and status.',
      '# TYPE receiver_http_requests_total counter',
      ...[...this.requests].map(([k, v]) => `receiver_http_requests_total{${k}} ${v}`),
      '# HELP receiver_ingest_records_total Ingested records by centre and outcome.',
      '# TYPE receiver_ingest_records_total counter',
      ...[...this.ingested].map(([k, v]) => `receiver_ingest_records_total{${k}} ${v}`),
      '# HELP receiver_ingest_normalised_total Stored values nulled (unusable) or truncated (too long), by centre and field.',
      '# TYPE receiver_ingest_normalised_total counter',
      ...[...this.normalised].map(([k, v]) => `receiver_ingest_normalised_total{${k}} ${v}`),
      '# HELP receiver_ingest_batch_seconds Time to store one ingest request.',
      '# TYPE receiver_ingest_batch_seconds histogram',
      ...LATENCY_BUCKETS.map((le, i) => `receiver_ingest_batch_seconds_bucket{le="${le}"} ${this.buckets[i]}`),
      `receiver_ingest_batch_seconds_bucket{le="+Inf"} ${this.latencyCount}`,
      `receiver_ingest_batch_seconds_sum ${this.latencySum}`,
      `receiver_ingest_batch_seconds_count ${this.latencyCount}`,
      '# HELP receiver_rate_limited_total Requests refused 429, by limit (address, auth_failures, principal).',
      '# TYPE receiver_rate_limited_total counter',
      ...[...this.rateLimited].map(([k, v]) => `receiver_rate_limited_total{limit="${label(k)}"} ${v}`),
      '# HELP receiver_auth_lookups_total Keys and tokens looked up in the database.',
      '# TYPE receiver_auth_lookups_total counter',
      `receiver_auth_lookups_total ${this.authLookups}`,
      '# HELP receiver_body_bytes_in_flight Decoded request body bytes held by requests in flight.',
      '# TYPE receiver_body_bytes_in_flight gauge',
      `receiver_body_bytes_in_flight ${this.bodyBytesInFlight}`,
      '# HELP receiver_bodies_refused_busy_total Requests answered 503 because bodies in flight were at their limit.',
      '# TYPE receiver_bodies_refused_busy_total counter',
      `receiver_bodies_refused_busy_total ${this.bodiesRefused}`,
      '# HELP receiver_center_last_seen_seconds Unix time of the last ingest from each centre.',
      '# TYPE receiver_center_last_seen_seconds gauge',
      ...centers
        .filter((c) => c.last_seen !== null)
        .map((c) => `receiver_center_last_seen_seconds{center="${label(c.code)}"} ${Date.parse(c.last_seen!) / 1000}`),
    ];
    return `${lines.join('\n')}\n`;
  }
}
