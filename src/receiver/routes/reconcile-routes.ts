import type { FastifyInstance } from 'fastify';
import { badRequest } from '../http/api-error.js';
import { ownCenter, requireOwnCenterKey } from '../http/auth.js';
import { errorResponses } from '../http/schemas.js';
import type { AppDeps } from '../app-deps.js';
import type { DayRange } from '../store/reconcile-store.js';

const centerParams = {
  type: 'object',
  properties: { center: { type: 'string', minLength: 1, maxLength: 64 } },
  required: ['center'],
} as const;

const daysResponse = {
  type: 'object',
  properties: {
    items: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          day: { type: 'string', description: 'YYYY-MM-DD (study_datetime date) or "undated"' },
          count: { type: 'integer', description: 'live (not deleted) studies' },
          digest: { type: 'string', description: 'decimal BIT_XOR of hashDigest(content_hash) over the live studies' },
        },
      },
    },
  },
} as const;

const studiesResponse = {
  type: 'object',
  properties: {
    items: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          study_iuid: { type: 'string' },
          source_seq: { type: 'integer' },
          content_hash: { type: ['string', 'null'] },
          deleted: { type: 'boolean' },
        },
      },
    },
  },
} as const;

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A real calendar day (the pattern alone accepts 2021-02-30), or 'undated'. */
function checkDay(day: string): string {
  if (day === 'undated') return day;
  const m = DAY.exec(day);
  const t = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : Number.NaN;
  if (!m || Number(m[1]) < 1000 || new Date(t).toISOString().slice(0, 10) !== day) throw badRequest('day must be YYYY-MM-DD or undated');
  return day;
}

const DAY_PATTERN = '^\\d{4}-\\d{2}-\\d{2}$';

/** Both ends or neither; real days, in order. */
function dayRange(q: { from?: string; to?: string }): DayRange | undefined {
  if (q.from === undefined && q.to === undefined) return undefined;
  if (q.from === undefined || q.to === undefined) throw badRequest('from and to go together: give both days or neither');
  const range = { from: checkDay(q.from), to: checkDay(q.to) };
  if (range.from === 'undated' || range.to === 'undated' || range.from > range.to) throw badRequest('from must be a day on or before to');
  return range;
}

/** What `indexer reconcile` asks of the receiver: a centre key, about its own centre only. */
export function reconcileRoutes(app: FastifyInstance, deps: AppDeps): void {
  const onRequest = requireOwnCenterKey(deps.store.access, deps.limiter);
  const security = [{ bearer: [] }];

  app.get<{ Params: { center: string }; Querystring: { from?: string; to?: string } }>('/api/v2/centers/:center/reconcile/days', {
    onRequest,
    schema: {
      summary: "Per-day counts and digests of the centre's live studies (centre key); from and to: only those days",
      security,
      params: centerParams,
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          from: { type: 'string', pattern: DAY_PATTERN, description: 'YYYY-MM-DD: the first day (with to)' },
          to: { type: 'string', pattern: DAY_PATTERN, description: 'YYYY-MM-DD: the last day (with from)' },
        },
      },
      response: { 200: daysResponse, ...errorResponses },
    },
  }, async (req) => ({ items: await deps.store.reconcileDays(ownCenter(req.principal, req.params.center).id, dayRange(req.query)) }));

  app.get<{ Params: { center: string }; Querystring: { day: string } }>('/api/v2/centers/:center/reconcile/studies', {
    onRequest,
    schema: {
      summary: "The centre's studies of one day, tombstones included (centre key)",
      security,
      params: centerParams,
      querystring: {
        type: 'object',
        additionalProperties: false,
        required: ['day'],
        properties: { day: { type: 'string', pattern: '^(\\d{4}-\\d{2}-\\d{2}|undated)$', description: 'YYYY-MM-DD or undated' } },
      },
      response: { 200: studiesResponse, ...errorResponses },
    },
  }, async (req) => {
    const center = ownCenter(req.principal, req.params.center);
    return { items: await deps.store.reconcileStudies(center.id, checkDay(req.query.day)) };
  });
}
