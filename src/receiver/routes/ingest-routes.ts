import type { FastifyInstance, FastifyRequest } from 'fastify';
import { validateLegacyRecord, validateRecord, withLegacyNulls, type StudyVersion } from '../record-validation.js';
import { badRequest, forbidden, tooLarge } from '../http/api-error.js';
import { requireRole } from '../http/auth.js';
import { decodeBody } from '../http/body-decoding.js';
import { errorResponses, ingestBodySchema, ingestResultSchema } from '../http/schemas.js';
import type { AppDeps } from '../app.js';

interface Rejected {
  index: number;
  study_iuid: string | null;
  reason: string;
}

function ownCenter(req: FastifyRequest, center: string): number {
  const principal = req.principal!;
  if (principal.name !== center) throw forbidden('this key belongs to another centre');
  return principal.id;
}

/** Per field, how many accepted records had a value nulled or truncated (the answer's `normalised`). */
function tally(fields: readonly string[], into: Record<string, number> = {}): Record<string, number> {
  for (const field of fields) into[field] = (into[field] ?? 0) + 1;
  return into;
}

/** The legacy record's `center`: a string (a number is taken as its text, as a Python client may send it). */
function legacyCenter(body: Record<string, unknown>): string {
  const c = body.center;
  if (c === undefined || c === null || c === '') throw badRequest('center is required');
  if (typeof c === 'number' && Number.isFinite(c)) return String(c);
  if (typeof c !== 'string') throw badRequest('center must be a string');
  return c;
}

/** Keeps a strictly increasing clock so two legacy posts in one millisecond still order. */
function monotonicClock(now: () => number): () => number {
  let last = 0;
  return () => {
    last = Math.max(now(), last + 1);
    return last;
  };
}

export function ingestRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { store, metrics, limits } = deps;
  const onRequest = requireRole(store.access, 'center', deps.limiter);
  const preParsing = decodeBody(limits);
  const bodyLimit = Math.max(limits.bodyBytes, limits.decompressedBytes);
  const legacyNow = monotonicClock(deps.now);

  app.post<{ Params: { center: string }; Body: { records: unknown[] } }>('/api/v2/centers/:center/studies', {
    onRequest,
    preParsing,
    bodyLimit,
    schema: {
      summary: 'Store a batch of study records from a centre (centre key)',
      security: [{ bearer: [] }],
      params: { type: 'object', properties: { center: { type: 'string', maxLength: 64 } }, required: ['center'] },
      body: ingestBodySchema,
      response: { 200: ingestResultSchema, ...errorResponses },
    },
  }, async (req) => {
    const started = process.hrtime.bigint();
    const center = req.params.center;
    const centerId = ownCenter(req, center);
    const records = req.body.records;
    if (records.length > limits.recordsPerBatch) throw tooLarge(`more than ${limits.recordsPerBatch} records in one batch`);
    const valid: StudyVersion[] = [];
    const rejected: Rejected[] = [];
    const normalised: Record<string, number> = {};
    records.forEach((raw, index) => {
      const r = validateRecord(raw, center);
      if (r.ok) {
        valid.push(r.version);
        tally(r.normalised, normalised);
      } else rejected.push({ index, study_iuid: r.study_iuid, reason: r.reason });
    });
    // The upsert also records the centre's contact and highest source_seq, in the same transaction.
    const outcome = await store.upsert(centerId, valid);
    metrics.countIngest(center, 'stored', outcome.stored);
    metrics.countIngest(center, 'unchanged', outcome.unchanged);
    metrics.countIngest(center, 'stale', outcome.stale);
    metrics.countIngest(center, 'rejected', rejected.length);
    metrics.countNormalised(center, normalised);
    metrics.observeIngestSeconds(Number(process.hrtime.bigint() - started) / 1e9);
    req.log.info({ center, records: records.length, ...outcome, rejected: rejected.length, normalised }, 'batch stored');
    return { ...outcome, rejected, normalised };
  });

  app.post<{ Body: Record<string, unknown> }>('/api/v1/register', {
    onRequest,
    preParsing,
    bodyLimit: limits.bodyBytes,
    schema: {
      summary: 'Legacy single-record endpoint (centre key in X-Api-Key)',
      security: [{ apiKey: [] }],
      body: { type: 'object' },
      response: { 201: { type: 'object', properties: { status: { type: 'string' } } }, ...errorResponses },
    },
  }, async (req, reply) => {
    const started = process.hrtime.bigint();
    const body = withLegacyNulls(req.body);
    const center = legacyCenter(body);
    const centerId = ownCenter(req, center);
    const r = validateLegacyRecord(body, legacyNow());
    if (!r.ok) {
      metrics.countIngest(center, 'rejected', 1);
      throw badRequest(r.reason);
    }
    const outcome = await store.upsert(centerId, [r.version]);
    metrics.countIngest(center, 'stored', outcome.stored);
    metrics.countIngest(center, 'unchanged', outcome.unchanged);
    metrics.countIngest(center, 'stale', outcome.stale);
    metrics.countNormalised(center, tally(r.normalised));
    metrics.observeIngestSeconds(Number(process.hrtime.bigint() - started) / 1e9);
    return reply.code(201).send({ status: 'Ok' });
  });
}
