import type { FastifyInstance } from 'fastify';
import { ownCenter, requireOwnCenterKey, requireRole } from '../http/auth.js';
import { errorResponses, ingestBodyDocs, ingestBodySchema, ingestResultSchema } from '../http/schemas.js';
import type { AppDeps } from '../app-deps.js';
import { legacyCenter } from '../services/ingest-service.js';

export function ingestRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { ingest, limits } = deps;
  const onRequest = requireRole(deps.store.access, 'center', deps.limiter);
  const ownCenterOnly = requireOwnCenterKey(deps.store.access, deps.limiter);

  app.post<{ Params: { center: string }; Body: { records: unknown[] } }>('/api/v2/centers/:center/studies', {
    onRequest: ownCenterOnly,
    bodyLimit: Math.max(limits.bodyBytes, limits.decompressedBytes),
    schema: {
      summary: 'Store a batch of study records from a centre (centre key)',
      security: [{ bearer: [] }],
      params: { type: 'object', properties: { center: { type: 'string', maxLength: 64 } }, required: ['center'] },
      body: ingestBodySchema,
      documentedBody: ingestBodyDocs,
      response: { 200: ingestResultSchema, ...errorResponses },
    },
  }, async (req) => ingest.storeBatch(ownCenter(req.principal, req.params.center), req.body.records, req.log));

  app.post<{ Body: Record<string, unknown> }>('/api/v1/register', {
    onRequest,
    bodyLimit: limits.bodyBytes,
    schema: {
      summary: 'Legacy single-record endpoint (centre key in X-Api-Key)',
      security: [{ apiKey: [] }],
      body: { type: 'object' },
      response: { 201: { type: 'object', properties: { status: { type: 'string' } } }, ...errorResponses },
    },
  }, async (req, reply) => {
    await ingest.storeLegacy(ownCenter(req.principal, legacyCenter(req.body)), req.body);
    return reply.code(201).send({ status: 'Ok' });
  });
}
