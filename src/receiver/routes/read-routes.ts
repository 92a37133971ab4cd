import type { FastifyInstance, FastifyRequest, RouteShorthandOptions } from 'fastify';
import { familyNameKey, patientKey } from '../../shared/patient-key.js';
import { fieldsOfKind, type StudyRecord } from '../../shared/study-record.js';
import { badRequest } from '../http/api-error.js';
import { requireRole } from '../http/auth.js';
import { readAudit, type Audited } from '../http/read-audit.js';
import { schemaErrorFormatter } from '../http/error-mapping.js';
import {
  centersSchema, errorResponses, legacyStudyRecordSchema, noQuerySchema, pageQuerySchema, statsQuerySchema, statsSchema, studyPageSchema,
  studyQuerySchema,
} from '../http/schemas.js';
import type { Keyset, StatsGroup, StudyFilters } from '../store/study-query.js';
import type { AppDeps } from '../app-deps.js';
import { centerHealth } from './heartbeat-routes.js';

interface StudyQuery {
  patient_id?: string;
  center?: string;
  modality?: string;
  from?: string;
  to?: string;
  accession_no?: string;
  study_iuid?: string;
  name?: string;
  description?: string;
  include_deleted: boolean;
  limit: number;
  cursor?: string;
}

const SORT_AT = /^(\d{4})-(\d{2})-(\d{2}) ([01]\d|2[0-3]):[0-5]\d:[0-5]\d$/;

/** A cursor's position must be a real date-time (the sort key of a stored row), not just its shape. */
function realSortAt(v: string): boolean {
  const m = SORT_AT.exec(v);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

/**
 * Not signed: a well-formed cursor made by hand only positions the keyset (a read token may read
 * every page anyway), and a signature would need a secret shared by every instance and kept across
 * restarts, which the receiver has nowhere to keep. Malformed ones are refused (docs/receiver.md).
 */
export function encodeCursor(k: Keyset): string {
  return Buffer.from(JSON.stringify([k.sortAt, k.id]), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined): Keyset | null {
  if (cursor === undefined) return null;
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && realSortAt(v[0]) && Number.isSafeInteger(v[1]) && v[1] > 0) {
      return { sortAt: v[0], id: v[1] as number };
    }
  } catch {
    // fall through: any undecodable cursor is the client's error
  }
  throw badRequest('query parameter "cursor" is not a valid cursor (pass next_cursor back unchanged)');
}

const TEXT_FILTERS = ['patient_id', 'center', 'modality', 'accession_no', 'study_iuid', 'name', 'description'] as const;

/** A filter that is blank once trimmed would silently match everything or nothing: refused instead. */
function refuseBlank(name: string, value: string | undefined): void {
  if (value !== undefined && value.trim() === '') throw badRequest(`${name} must not be blank`);
}

function filtersOf(q: StudyQuery): StudyFilters {
  for (const f of TEXT_FILTERS) refuseBlank(`query parameter "${f}"`, q[f]);
  if (q.from && q.to && q.from > q.to) throw badRequest('query parameter "from" is after "to"');
  // A name without a family part (blank, `^ANA`) would match nothing or, once dropped, everything.
  const name = q.name === undefined ? undefined : familyNameKey(q.name);
  if (name === null) throw badRequest('query parameter "name" must hold a family name (FAMILY or FAMILY^GIVEN)');
  return {
    patientKey: q.patient_id === undefined ? undefined : (patientKey(q.patient_id) ?? ''),
    center: q.center,
    modality: q.modality?.trim().toUpperCase(),
    from: q.from,
    to: q.to,
    accessionNo: q.accession_no,
    studyIuid: q.study_iuid,
    namePrefix: name,
    description: q.description,
    includeDeleted: q.include_deleted,
  };
}

export function readRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { store } = deps;
  const { audited, onError } = readAudit(store.access);
  const guard = { onRequest: requireRole(store.access, 'token', deps.limiter), onError };
  const security = [{ bearer: [] }];

  const page = async (req: FastifyRequest, f: StudyFilters, limit: number, cursor: string | undefined) => {
    const result = await store.search(f, limit, decodeCursor(cursor));
    const body = { items: result.items, next_cursor: result.next ? encodeCursor(result.next) : null };
    return audited(req, result.items.length, body);
  };

  app.get<{ Querystring: StudyQuery }>('/api/v2/studies', {
    ...guard,
    schemaErrorFormatter: schemaErrorFormatter({ querystring: Object.keys(studyQuerySchema.properties) }),
    schema: { summary: 'Search studies, newest first, keyset-paged', security, querystring: studyQuerySchema, response: { 200: studyPageSchema, ...errorResponses } },
  }, async (req) => page(req, filtersOf(req.query), req.query.limit, req.query.cursor));

  app.get<{ Params: { patient_id: string }; Querystring: { include_deleted: boolean; limit: number; cursor?: string } }>(
    '/api/v2/patients/:patient_id/studies',
    {
      ...guard,
      schemaErrorFormatter: schemaErrorFormatter({ querystring: Object.keys(pageQuerySchema.properties) }),
      schema: {
        summary: "A patient's studies across all centres (patient_id in any RUT form)",
        security,
        params: { type: 'object', properties: { patient_id: { type: 'string', minLength: 1, maxLength: 255 } }, required: ['patient_id'] },
        querystring: pageQuerySchema,
        response: { 200: studyPageSchema, ...errorResponses },
      },
    },
    async (req) => {
      refuseBlank('path parameter "patient_id"', req.params.patient_id);
      const key = patientKey(req.params.patient_id) ?? '';
      return page(req, { patientKey: key, includeDeleted: req.query.include_deleted }, req.query.limit, req.query.cursor);
    },
  );

  app.get('/api/v2/centers', {
    ...guard,
    schemaErrorFormatter: schemaErrorFormatter({ querystring: [] }),
    schema: { summary: 'Centres with live study counts and last contact', security, querystring: noQuerySchema, response: { 200: centersSchema, ...errorResponses } },
  }, async (req) => {
    const [centers, beats] = await Promise.all([store.access.listCenters(), store.latestHeartbeats()]);
    const now = deps.now();
    const items = centers.map((c) => ({ ...c, health: centerHealth(beats.get(c.code), now, deps.heartbeats.silentAfterS) }));
    return audited(req, items.length, { items });
  });

  app.get<{ Querystring: { group_by: StatsGroup } }>('/api/v2/stats', {
    ...guard,
    schemaErrorFormatter: schemaErrorFormatter({ querystring: ['group_by'] }),
    schema: { summary: 'Live study counts by centre, modality or month', security, querystring: statsQuerySchema, response: { 200: statsSchema, ...errorResponses } },
  }, async (req) => {
    const items = await store.stats(req.query.group_by);
    return audited(req, items.length, { group_by: req.query.group_by, items });
  });

  legacyReadRoutes(app, deps, guard, audited);
}

const COUNT_FIELDS = fieldsOfKind('count');

/**
 * A record as the legacy reads answer it. Their clients were written against a server that always
 * had a number there (unknown was stored as 0), so an unknown (null) count stays 0 for them; the
 * v2 API, QIDO-RS and FHIR say unknown (null, or the attribute left out).
 */
function legacyItem(r: StudyRecord): StudyRecord {
  if (COUNT_FIELDS.every((f) => r[f] !== null)) return r;
  const out = { ...r };
  for (const f of COUNT_FIELDS) out[f] ??= 0;
  return out;
}

/** The legacy read endpoints: whole result sets (capped at 1000) as a JSON array, read token in X-Api-Key. */
function legacyReadRoutes(app: FastifyInstance, deps: AppDeps, guard: Pick<RouteShorthandOptions, 'onRequest' | 'onError'>, audited: Audited): void {
  const schemaFor = (param: string, summary: string) => ({
    summary,
    security: [{ apiKey: [] }],
    params: { type: 'object', properties: { [param]: { type: 'string', minLength: 1, maxLength: 255 } }, required: [param] },
    response: { 200: { type: 'array', items: legacyStudyRecordSchema }, ...errorResponses },
  });
  // No querystring schema: legacy clients' extra parameters stay ignored, as they always were.
  const legacy = guard;
  const list = async (req: FastifyRequest, f: Omit<StudyFilters, 'includeDeleted'>): Promise<StudyRecord[]> => {
    const result = await deps.store.search({ ...f, includeDeleted: false }, 1000, null);
    return audited(req, result.items.length, result.items.map(legacyItem));
  };
  app.get<{ Params: { id: string } }>('/api/v1/patient_id/:id', { ...legacy, schema: schemaFor('id', 'Legacy: studies of a patient id') },
    async (req) => {
      refuseBlank('path parameter "id"', req.params.id);
      return list(req, { patientKey: patientKey(req.params.id) ?? '' });
    });
  app.get<{ Params: { text: string } }>('/api/v1/patient_name/:text', { ...legacy, schema: schemaFor('text', 'Legacy: family-name prefix') },
    async (req) => {
      const prefix = familyNameKey(req.params.text);
      if (!prefix) throw badRequest('path parameter "text" (a family name) must contain a letter or digit');
      return list(req, { namePrefix: prefix });
    });
  app.get<{ Params: { text: string } }>('/api/v1/description/:text', { ...legacy, schema: schemaFor('text', 'Legacy: description contains') },
    async (req) => {
      refuseBlank('path parameter "text"', req.params.text);
      return list(req, { description: req.params.text });
    });
}
