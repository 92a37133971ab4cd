import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { AccessStore } from '../store/access-store.js';
import { safeError } from '../store/db.js';
import { classify } from './error-mapping.js';

function entry(req: FastifyRequest, route: string, status: number, count: number) {
  return {
    token_name: req.principal!.name,
    route: `${req.method} ${route}`,
    parameters: JSON.stringify({ params: req.params, query: req.query }),
    result_count: count,
    status,
  };
}

export type Audited = <T>(req: FastifyRequest, count: number, body: T) => Promise<T>;

/**
 * The read audit, kept beside the routes that decide it: every read by a token is written before
 * it is answered (token, route pattern, parameters, result count), a refused one with its status.
 */
export function readAudit(access: AccessStore): { audited: Audited; onError: (req: FastifyRequest, reply: FastifyReply, err: FastifyError) => Promise<void> } {
  return {
    audited: async (req, count, body) => {
      await access.writeAudit(entry(req, req.routeOptions.url ?? '', 200, count));
      return body;
    },
    // A route-level onError hook: runs before the error handler answers. 429s are audited by the
    // limiter itself, without the parameters (they may hold patient data).
    onError: async (req, _reply, err) => {
      const { status } = classify(err);
      if (req.principal?.kind !== 'token' || status === 429) return;
      await access
        .writeAudit(entry(req, req.routeOptions.url ?? 'unmatched', status, 0))
        .catch((auditErr: unknown) => req.log.error({ err: safeError(auditErr) }, 'audit write failed'));
    },
  };
}
