import type { FastifyInstance } from 'fastify';
import type { OpenApiCollector } from '../http/openapi.js';
import type { AppDeps } from '../app-deps.js';

const statusSchema = { type: 'object', properties: { status: { type: 'string' } } } as const;

/** Liveness, readiness, metrics and the API description: unauthenticated, no patient data. */
export function opsRoutes(app: FastifyInstance, deps: AppDeps, openapi: OpenApiCollector): void {
  app.get('/healthz', { schema: { summary: 'The process is up', response: { 200: statusSchema } } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { summary: 'The database answers', response: { 200: statusSchema, 503: statusSchema } } }, async (req, reply) => {
    try {
      await deps.store.ping();
      return { status: 'ready' };
    } catch {
      req.log.warn('readiness check failed: database unreachable');
      return reply.code(503).send({ status: 'database unreachable' });
    }
  });

  app.get('/metrics', { schema: { summary: 'Prometheus text exposition' } }, async (_req, reply) => {
    const [centers, latest] = await Promise.all([deps.store.access.listCenters(), deps.store.latestHeartbeats()]);
    const beats = { latest, nowMs: deps.now(), silentAfterS: deps.heartbeats.silentAfterS };
    return reply.type(deps.metrics.contentType).send(await deps.metrics.render(centers, beats));
  });

  app.get('/openapi.json', { schema: { summary: 'This document' } }, async () => openapi.document(deps.version));
}
