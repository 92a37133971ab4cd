import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { IndexerError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { DEFAULT_LIMITS, type ReceiverLimits } from './config.js';
import { ApiError } from './http/api-error.js';
import { Metrics } from './http/metrics.js';
import { OpenApiCollector } from './http/openapi.js';
import { RateLimiter } from './http/rate-limit.js';
import { ingestRoutes } from './routes/ingest-routes.js';
import { opsRoutes } from './routes/ops-routes.js';
import { readRoutes } from './routes/read-routes.js';
import { reconcileRoutes } from './routes/reconcile-routes.js';
import { safeError } from './store/db.js';
import type { ReceiverStore } from './store/receiver-store.js';

export interface AppOptions {
  store: ReceiverStore;
  log: Logger;
  limits?: ReceiverLimits;
  /** Requests per second per key or token; 0 or absent: no limit. */
  rateLimitPerSecond?: number;
  /** Clock (ms), injectable for tests. */
  now?: () => number;
  version?: string;
  https?: { cert: Buffer; key: Buffer };
}

/** What the route modules receive. */
export interface AppDeps {
  store: ReceiverStore;
  metrics: Metrics;
  limits: ReceiverLimits;
  limiter: RateLimiter | null;
  now: () => number;
  version: string;
}

/**
 * Database conditions the client can do nothing about but retry later: unreachable or restarting,
 * refusing writes (read-only, disk or table full, a user without write privileges after a
 * misconfiguration), or too busy (lock waits, deadlocks that outlived the store's retries).
 * Answered 503 + Retry-After, never 500: nothing was stored, the agent keeps its checkpoint.
 */
const UNAVAILABLE = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'DB_UNREACHABLE',
  'ER_CON_COUNT_ERROR', 'ER_TOO_MANY_USER_CONNECTIONS', 'ER_SERVER_SHUTDOWN', 'ER_ACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR',
  'ER_OPTION_PREVENTS_STATEMENT', 'ER_READ_ONLY_MODE', 'ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION',
  'ER_RECORD_FILE_FULL', 'ER_DISK_FULL', 'ER_OUT_OF_RESOURCES', 'ER_OUTOFMEMORY',
  'ER_TABLEACCESS_DENIED_ERROR', 'ER_COLUMNACCESS_DENIED_ERROR',
  'ER_LOCK_WAIT_TIMEOUT', 'ER_LOCK_DEADLOCK', 'ER_LOCK_TABLE_FULL', 'ER_QUERY_INTERRUPTED', 'ER_STATEMENT_TIMEOUT',
]);

/** Seconds a client should wait before retrying after a 503. */
export const RETRY_AFTER_SECONDS = 5;

function routeOf(req: FastifyRequest): string {
  return req.routeOptions.url ?? 'unmatched';
}

/** Maps any error to a status and a body that says nothing internal. */
function classify(err: FastifyError | Error): { status: number; body: { error: string; message: string } } {
  if (err instanceof ApiError) return { status: err.status, body: { error: err.error, message: err.message } };
  const e = err as FastifyError & { code?: string };
  if (UNAVAILABLE.has(e.code ?? '') || (err instanceof IndexerError && err.code === 'DB_UNREACHABLE')) {
    return { status: 503, body: { error: 'unavailable', message: 'the database is unavailable, retry later' } };
  }
  if (e.validation) return { status: 400, body: { error: 'bad_request', message: e.message } };
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500) {
    const error = status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : 'bad_request';
    const message = e.code?.startsWith('FST_') ? e.message : status === 413 ? 'request body too large' : 'invalid request body';
    return { status, body: { error, message } };
  }
  return { status: 500, body: { error: 'internal', message: 'internal error' } };
}

function installHandlers(app: FastifyInstance, deps: AppDeps): void {
  app.setErrorHandler(async (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const { status, body } = classify(err);
    if (status >= 500) req.log.error({ route: routeOf(req), err: safeError(err) }, 'request failed');
    else req.log.info({ route: routeOf(req), status, error: body.error }, 'request refused');
    if (status === 429) reply.header('retry-after', '1');
    if (status === 503) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    if (req.principal?.kind === 'token') {
      await deps.store.access
        .writeAudit({ token_name: req.principal.name, route: `${req.method} ${routeOf(req)}`, parameters: JSON.stringify({ params: req.params, query: req.query }), result_count: 0, status })
        .catch((auditErr: unknown) => req.log.error({ err: safeError(auditErr) }, 'audit write failed'));
    }
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler(async (_req, reply) => reply.code(404).send({ error: 'not_found', message: 'no such route' }));
  // fastify's own request log prints req.url, which carries patient ids: log the route pattern instead.
  app.addHook('onResponse', async (req, reply) => {
    deps.metrics.countRequest(req.method, routeOf(req), reply.statusCode);
    req.log.info({ method: req.method, route: routeOf(req), status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });
}

/** The receiver's HTTP application, with every dependency passed in (no globals, no env). */
export function buildApp(options: AppOptions): FastifyInstance {
  const limits = options.limits ?? DEFAULT_LIMITS;
  const deps: AppDeps = {
    store: options.store,
    metrics: new Metrics(),
    limits,
    limiter: options.rateLimitPerSecond ? new RateLimiter(options.rateLimitPerSecond, options.now) : null,
    now: options.now ?? Date.now,
    version: options.version ?? '0.0.0',
  };
  const fastifyOptions: FastifyServerOptions & { https?: AppOptions['https'] } = {
    loggerInstance: options.log,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: limits.bodyBytes,
    forceCloseConnections: 'idle',
    // Query strings need coercion (limit=10); unknown parameters are an error, not silently dropped.
    ajv: { customOptions: { coerceTypes: true, removeAdditional: false } },
    ...(options.https ? { https: options.https } : {}),
  };
  const app = Fastify(fastifyOptions) as unknown as FastifyInstance;
  // Legacy clients post JSON without a JSON content type: every body is parsed as JSON.
  app.addContentTypeParser('*', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));
  const openapi = new OpenApiCollector();
  app.addHook('onRoute', openapi.onRoute);
  installHandlers(app, deps);
  ingestRoutes(app, deps);
  readRoutes(app, deps);
  reconcileRoutes(app, deps);
  opsRoutes(app, deps, openapi);
  return app;
}
