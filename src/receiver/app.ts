import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { Logger } from '../shared/logger.js';
import type { AppDeps } from './app-deps.js';
import { DEFAULT_HEARTBEATS, DEFAULT_LIMITS, DEFAULT_RATE_LIMITS, DEFAULT_READS, DEFAULT_TIMEOUTS, type HeartbeatSettings, type RateLimitSettings, type ReadSettings, type ReceiverLimits, type ServerTimeouts } from './config.js';
import { dicomwebRoutes } from './dicomweb/dicomweb-routes.js';
import { fhirRoutes } from './fhir/fhir-routes.js';
import { FHIR_JSON } from './fhir/negotiation.js';
import { operationOutcome } from './fhir/operation-outcome.js';
import { ApiError } from './http/api-error.js';
import { BodyBudget, decodeBody } from './http/body-decoding.js';
import { closeRefusedConnections, guardConnections } from './http/connection-guard.js';
import { allowOrigins } from './http/cors.js';
import { classify, schemaErrorFormatter } from './http/error-mapping.js';
import { Metrics } from './http/metrics.js';
import { OpenApiCollector } from './http/openapi.js';
import { checkQueryEncoding, checkQueryValues } from './http/query-encoding.js';
import { RequestLimiter } from './http/rate-limit.js';
import { ingestRoutes } from './routes/ingest-routes.js';
import { opsRoutes } from './routes/ops-routes.js';
import { readRoutes } from './routes/read-routes.js';
import { heartbeatRoutes } from './routes/heartbeat-routes.js';
import { reconcileRoutes } from './routes/reconcile-routes.js';
import { versionRoutes } from './routes/version-routes.js';
import { createIngestService } from './services/ingest-service.js';
import { safeError } from './store/db.js';
import type { ReceiverStore } from './store/receiver-store.js';

export { RETRY_AFTER_SECONDS } from './http/error-mapping.js';

export interface AppOptions {
  store: ReceiverStore;
  log: Logger;
  limits?: Partial<ReceiverLimits>;
  /** Per address, per failed authentications and per key; absent: the defaults (on). */
  rateLimits?: Partial<RateLimitSettings>;
  timeouts?: Partial<ServerTimeouts>;
  /** Search bounds and link base of the read interfaces; absent: the defaults. */
  reads?: Partial<ReadSettings>;
  /** When a centre is silent (the store prunes the history itself); absent: the defaults. */
  heartbeats?: Partial<HeartbeatSettings>;
  /** Reverse proxies whose X-Forwarded-For names the client (addresses or CIDRs). */
  trustProxy?: string[];
  /** Browser origins allowed to call the read routes (CORS); absent or empty: none. */
  corsOrigins?: string[];
  /** Clock (ms), injectable for tests. */
  now?: () => number;
  version?: string;
  https?: { cert: Buffer; key: Buffer };
}

export type { AppDeps } from './app-deps.js';

function routeOf(req: FastifyRequest): string {
  return req.routeOptions.url ?? 'unmatched';
}

function installHandlers(app: FastifyInstance, deps: AppDeps): void {
  app.setErrorHandler(async (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const { status, body, retryAfter } = classify(err);
    // Our own 5xx (busy: too many bodies in flight) are expected under load; anything else is logged with its code.
    if (status >= 500 && !(err instanceof ApiError)) req.log.error({ route: routeOf(req), err: safeError(err) }, 'request failed');
    else req.log.info({ route: routeOf(req), status, error: body.error }, 'request refused');
    if (retryAfter) reply.header('retry-after', String(retryAfter));
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler(async (_req, reply) => reply.code(404).send({ error: 'not_found', message: 'no such route' }));
  // A read token's answers carry patient data: no browser or proxy may keep a copy.
  app.addHook('onSend', async (req, reply) => {
    if (req.principal?.kind === 'token') void reply.header('cache-control', 'no-store');
  });
    // fastify's own request log prints req.url, which carries patient ids: log the route pattern instead.
  app.addHook('onResponse', async (req, reply) => {
    deps.metrics.countRequest(req.method, routeOf(req), reply.statusCode);
    req.log.info({ method: req.method, route: routeOf(req), status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });
}

/**
 * Before anything else: an unknown route is answered 404 unread (no body parsing, no key lookup),
 * then the per-address limits; every body is decoded against the limits and the shared budget;
 * query values are judged after authentication.
 */
function installGuards(app: FastifyInstance, deps: AppDeps, budget: BodyBudget): void {
  app.addHook('onRequest', async (req, reply) => {
    if (req.is404) {
      return reply.code(404).send({ error: 'not_found', message: 'no such route' });
    }
    await deps.limiter?.beforeAuth(req);
    return undefined;
  });
  app.addHook('preParsing', decodeBody(deps.limits, budget));
  // After authentication (the routes' onRequest), so a token's malformed query is refused and audited.
  app.addHook('preValidation', async (req) => {
    checkQueryEncoding(req);
    checkQueryValues(req);
  });
}

function serverOptions(options: AppOptions, limits: ReceiverLimits): FastifyServerOptions & { https?: AppOptions['https'] } {
  const t = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  // Node checks header and request deadlines on this interval (default 30 s): tighter, so they hold.
  const node = { headersTimeout: t.headersMs, connectionsCheckingInterval: Math.min(1000, t.headersMs) };
  return {
    loggerInstance: options.log,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: Math.max(limits.bodyBytes, limits.decompressedBytes),
    forceCloseConnections: 'idle',
    connectionTimeout: t.socketIdleMs,
    requestTimeout: t.requestMs,
    keepAliveTimeout: t.keepAliveMs,
    maxRequestsPerSocket: t.maxRequestsPerSocket,
    trustProxy: options.trustProxy && options.trustProxy.length > 0 ? options.trustProxy : false,
    // Long enough for any patient id the schemas accept, so they (not the router) answer, with a 400.
    routerOptions: { maxParamLength: 1024 },
    // Query strings need coercion (limit=10); unknown parameters are an error, not silently dropped.
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false } },
    schemaErrorFormatter: schemaErrorFormatter(),
    // A bad percent-encoding is answered before routing: fastify's own body would quote the URL.
    frameworkErrors: (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
      const { status, body } = classify(err);
      // A FHIR client is answered in FHIR's form even before routing (e.g. a bad path encoding).
      if (req.url.startsWith('/fhir/') || req.url === '/fhir') {
        void reply.code(status).type(FHIR_JSON).send(JSON.stringify(operationOutcome('invalid', body.message, status)));
        return;
      }
      void reply.code(status).send(body);
    },
    http: node,
    ...(options.https ? { https: { ...node, ...options.https } } : {}),
  } as FastifyServerOptions & { https?: AppOptions['https'] };
}

/** The receiver's HTTP application, with every dependency passed in (no globals, no env). */
export function buildApp(options: AppOptions): FastifyInstance {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const metrics = new Metrics();
  const rateLimits: RateLimitSettings = { ...DEFAULT_RATE_LIMITS, ...options.rateLimits };
  const now = options.now ?? Date.now;
  const deps: AppDeps = {
    store: options.store,
    ingest: createIngestService({ store: options.store, metrics, recordsPerBatch: limits.recordsPerBatch, now }),
    metrics,
    limits,
    reads: { ...DEFAULT_READS, ...options.reads },
    heartbeats: { ...DEFAULT_HEARTBEATS, ...options.heartbeats },
    limiter: new RequestLimiter(rateLimits, options.store.access, metrics),
    now,
    version: options.version ?? '0.0.0',
  };
  const app = Fastify(serverOptions(options, limits)) as unknown as FastifyInstance;
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  app.server.maxConnections = timeouts.maxConnections;
  guardConnections(app.server, { perAddress: timeouts.maxConnectionsPerAddress, firstByteMs: timeouts.firstByteMs, exempt: options.trustProxy ?? [] });
  closeRefusedConnections(app);
  deps.limiter!.install(app);
  // Every body is parsed as JSON (the decoder already refused other media types; legacy clients
  // send none). `__proto__` and `constructor.prototype` keys are dropped, never an error: a record
  // carrying one is stored without it, and its batch goes through.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, app.getDefaultJsonParser('remove', 'remove'));
  const openapi = new OpenApiCollector();
  app.addHook('onRoute', openapi.onRoute);
  installHandlers(app, deps);
  installGuards(app, deps, new BodyBudget(limits.inflightBodyBytes, metrics));
  allowOrigins(app, options.corsOrigins ?? []);
  ingestRoutes(app, deps);
  readRoutes(app, deps);
  dicomwebRoutes(app, deps);
  fhirRoutes(app, deps);
  reconcileRoutes(app, deps);
  heartbeatRoutes(app, deps);
  versionRoutes(app, deps);
  opsRoutes(app, deps, openapi);
  return app;
}
