import type { HeartbeatSettings, ReadSettings, ReceiverLimits } from './config.js';
import type { Metrics } from './http/metrics.js';
import type { RequestLimiter } from './http/rate-limit.js';
import type { IngestService } from './services/ingest-service.js';
import type { ReceiverStore } from './store/receiver-store.js';

/** What the route modules receive from buildApp (its own module, so routes never import app.ts). */
export interface AppDeps {
  store: ReceiverStore;
  ingest: IngestService;
  metrics: Metrics;
  limits: ReceiverLimits;
  reads: ReadSettings;
  heartbeats: HeartbeatSettings;
  limiter: RequestLimiter | null;
  now: () => number;
  version: string;
}
