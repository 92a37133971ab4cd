import type { FastifyInstance } from 'fastify';
import { badRequest } from '../http/api-error.js';
import { ownCenter, requireOwnCenterKey } from '../http/auth.js';
import { realUtcTime, typeMismatch } from '../http/strict-json-types.js';
import { heartbeatAnswerSchema, heartbeatBodySchema } from '../http/heartbeat-schemas.js';
import { errorResponses } from '../http/schemas.js';
import type { AppDeps } from '../app-deps.js';
import type { HeartbeatBody, StoredHeartbeat } from '../store/heartbeat-store.js';

/** A heartbeat is a few hundred bytes; anything near this is not one. */
export const HEARTBEAT_BODY_BYTES = 16 * 1024;

/** A centre's health as GET /api/v2/centers shows it: its latest heartbeat, judged now. */
export interface CenterHealth extends Omit<HeartbeatBody, 'last_pass'> {
  last_contact_at: string;
  silent: boolean;
  last_pass: { command?: string; ok: boolean; error_code: string | null; finished_at: string | null } | null;
}

/** Seconds since the centre's last heartbeat (never negative: another instance's clock may run ahead). */
export function contactAgeSeconds(stored: StoredHeartbeat, nowMs: number): number {
  return Math.max(0, (nowMs - Date.parse(stored.received_at)) / 1000);
}

export function centerHealth(stored: StoredHeartbeat | undefined, nowMs: number, silentAfterS: number): CenterHealth | null {
  if (!stored) return null;
  const b = stored.body;
  const pass = b.last_pass ?? null;
  return {
    last_contact_at: stored.received_at,
    silent: contactAgeSeconds(stored, nowMs) > silentAfterS,
    source: b.source,
    agent_version: b.agent_version,
    backlog: b.backlog ?? null,
    oldest_unsent_age_s: b.oldest_unsent_age_s ?? null,
    last_pass: pass && { ...(pass.command ? { command: pass.command } : {}), ok: pass.ok, error_code: pass.error_code ?? null, finished_at: pass.finished_at },
    dead_letters: b.dead_letters ?? null,
    capture_ok: b.capture_ok ?? null,
    capture_problems: b.capture_problems ?? [],
    last_reconcile: b.last_reconcile ?? null,
    incomplete_windows: b.incomplete_windows ?? null,
  };
}

/** JSON types as sent (before the validator's coercion) and timestamps that are real instants. */
function checkBodyTypes(body: unknown): void {
  const wrong = typeMismatch(heartbeatBodySchema, body);
  if (wrong) throw badRequest(`body/${wrong} has the wrong JSON type`);
  const b = body as { last_pass?: { finished_at?: unknown } | null; last_reconcile?: { finished_at?: unknown } | null };
  for (const [name, at] of [['last_pass', b.last_pass?.finished_at], ['last_reconcile', b.last_reconcile?.finished_at]] as const) {
    if (typeof at === 'string' && !realUtcTime(at)) throw badRequest(`body/${name}.finished_at is not a real UTC instant`);
  }
}

/** What the agent posts after every pass (and on an interval in `daemon`): a centre key, its own centre only. */
export function heartbeatRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.post<{ Params: { center: string }; Body: HeartbeatBody }>('/api/v2/centers/:center/heartbeat', {
    onRequest: requireOwnCenterKey(deps.store.access, deps.limiter),
    preValidation: async (req) => checkBodyTypes(req.body),
    bodyLimit: HEARTBEAT_BODY_BYTES,
    schema: {
      summary: "The agent's status: counts, codes and timestamps, no patient data (centre key)",
      security: [{ bearer: [] }],
      params: { type: 'object', properties: { center: { type: 'string', minLength: 1, maxLength: 64 } }, required: ['center'] },
      body: heartbeatBodySchema,
      response: { 200: heartbeatAnswerSchema, ...errorResponses },
    },
  }, async (req) => {
    const center = ownCenter(req.principal, req.params.center);
    const receivedAt = await deps.store.saveHeartbeat(center.id, req.body);
    return { status: 'ok', received_at: receivedAt };
  });
}
