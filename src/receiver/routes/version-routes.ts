import type { FastifyInstance } from 'fastify';
import { ownCenter, requireOwnCenterKey } from '../http/auth.js';
import { errorResponses } from '../http/schemas.js';
import type { AppDeps } from '../app-deps.js';

const floorResponse = {
  type: 'object',
  properties: {
    center: { type: 'string' },
    highest_source_seq: {
      type: ['integer', 'null'],
      description: 'the highest source_seq any batch of this centre carried; null before the first agent (v2) record',
    },
  },
  required: ['center', 'highest_source_seq'],
} as const;

/**
 * The centre's version floor: the agent reads it before it allocates versions in a pass and
 * allocates above it, so its versions never go backwards after its PACS-side state was reset
 * or restored (docs/design.md). One indexed read of a few counter rows.
 */
export function versionRoutes(app: FastifyInstance, deps: AppDeps): void {
  const onRequest = requireOwnCenterKey(deps.store.access, deps.limiter);
  app.get<{ Params: { center: string } }>('/api/v2/centers/:center/source-seq', {
    onRequest,
    schema: {
      summary: "The centre's highest stored version (source_seq), the agent's version floor (centre key)",
      security: [{ bearer: [] }],
      params: { type: 'object', properties: { center: { type: 'string', minLength: 1, maxLength: 64 } }, required: ['center'] },
      response: { 200: floorResponse, ...errorResponses },
    },
  }, async (req) => {
    const center = ownCenter(req.principal, req.params.center);
    return { center: center.code, highest_source_seq: await deps.store.highestSourceSeq(center.id) };
  });
}
