import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { ApiError } from '../http/api-error.js';
import { requireRole } from '../http/auth.js';
import { classify } from '../http/error-mapping.js';
import { readAudit, type Audited } from '../http/read-audit.js';
import { decodeCursor, encodeCursor } from '../routes/read-routes.js';
import { safeError } from '../store/db.js';
import type { Keyset } from '../store/study-match.js';
import { baseUrlOf, searchset } from './bundle.js';
import { capabilityStatement } from './capability.js';
import { isStrict, parseSearch, type Query } from './fhir-params.js';
import { runSearch } from './fhir-search.js';
import { toImagingStudy } from './imaging-study.js';
import { checkFormat, FHIR_JSON } from './negotiation.js';
import { gone, invalid, issueCodeOf, notFound, notSupported, operationOutcome } from './operation-outcome.js';
import { fhirQuerySchema } from './fhir-schema.js';

export const WWW_AUTHENTICATE = 'Bearer realm="pacs-indexer", Basic realm="pacs-indexer"';

const send = (reply: FastifyReply, status: number, body: unknown): FastifyReply => reply.code(status).type(FHIR_JSON).send(JSON.stringify(body));

/** Every refusal as an OperationOutcome: classify() decides status and message, this only re-shapes them. */
async function fhirErrorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const { status, body, retryAfter } = classify(err);
  const route = req.routeOptions.url ?? 'unmatched';
  if (status >= 500 && !(err instanceof ApiError)) req.log.error({ route, err: safeError(err) }, 'request failed');
  else req.log.info({ route, status, error: body.error }, 'request refused');
  if (retryAfter) reply.header('retry-after', String(retryAfter));
  if (status === 401) reply.header('www-authenticate', WWW_AUTHENTICATE);
  return send(reply, status, operationOutcome(issueCodeOf(err, status), body.message, status));
}

function baseOf(deps: AppDeps, req: FastifyRequest): string {
  const base = baseUrlOf(deps.reads.publicUrl, req.protocol, req.host);
  if (base === null) throw invalid('the Host header must be host[:port] (links are built from it; or set RECEIVER_PUBLIC_URL)');
  return base;
}

/** The cursor of our own next links; anything else is the client's error, named as FHIR knows it. */
function fhirCursor(cursor: string): Keyset {
  try {
    const k = cursor.length <= 200 ? decodeCursor(cursor) : null;
    if (k) return k;
  } catch {
    // reported below, under the FHIR parameter's name
  }
  throw invalid('search parameter "_cursor" is not a valid paging cursor (follow the Bundle\'s next link unchanged)');
}

const ID = /^[1-9][0-9]{0,15}$/;
const RESOURCE_TYPE = /^[A-Z][A-Za-z]{1,63}$/;
const KNOWN_PATH = /^\/fhir\/(metadata|ImagingStudy(\/[^/]*)?)\/?$/;

/** Anything but the routes above: 405 on a known path, else 404 (an unsupported resource type is named). */
function unknownRoute(req: FastifyRequest, reply: FastifyReply): Error {
  const path = req.url.split('?')[0]!;
  if (KNOWN_PATH.test(path) && req.method !== 'GET' && req.method !== 'HEAD') {
    reply.header('allow', 'GET, HEAD');
    return notSupported('this FHIR server is read-only: only GET (read, search-type) is supported', 405);
  }
  const type = path.split('/')[2] ?? '';
  return notFound(RESOURCE_TYPE.test(type) && type !== 'ImagingStudy'
    ? `resource type ${type} is not supported here (only ImagingStudy; see /fhir/metadata)`
    : 'no such FHIR interaction (see /fhir/metadata)');
}

type Guard = Pick<RouteShorthandOptions, 'onRequest' | 'onError'>;
const security: Record<string, string[]>[] = [{ bearer: [] }, { basic: [] }];
const formatOnly = { type: 'object', additionalProperties: true, properties: { _format: { type: 'string' } } };

function metadataRoute(scope: FastifyInstance, deps: AppDeps): void {
  const publishedAt = new Date(deps.now()).toISOString();
  scope.get('/metadata', {
    schema: { summary: 'FHIR R4 CapabilityStatement (no credentials needed)', querystring: formatOnly },
  }, async (req, reply) => send(reply, 200, capabilityStatement(baseOf(deps, req), deps.version, publishedAt)));
}

function searchRoute(scope: FastifyInstance, deps: AppDeps, guard: Guard, audited: Audited): void {
  scope.get('/ImagingStudy', {
    ...guard,
    schema: { summary: 'FHIR R4 ImagingStudy search (searchset Bundle, newest first, paged by next links)', security, querystring: fhirQuerySchema },
  }, async (req, reply) => {
    const base = baseOf(deps, req);
    const search = parseSearch(req.query as Query, {
      strict: isStrict(req.headers.prefer), defaultCount: deps.reads.fhirDefaultCount, maxCount: deps.reads.fhirMaxCount, decodeCursor: fhirCursor,
    });
    const found = await runSearch(deps.store, search);
    const bundle = searchset({
      base, used: search.used, pageSize: search.count, total: found.total, resources: found.rows.map(toImagingStudy),
      cursor: search.after ? encodeCursor(search.after) : null, nextCursor: found.next ? encodeCursor(found.next) : null,
    });
    await audited(req, found.rows.length, null);
    return send(reply, 200, bundle);
  });
}

function readRoute(scope: FastifyInstance, deps: AppDeps, guard: Guard, audited: Audited): void {
  scope.get<{ Params: { id: string } }>('/ImagingStudy/:id', {
    ...guard,
    schema: {
      summary: 'FHIR R4 ImagingStudy read (404 unknown, 410 deleted)', security,
      params: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
      querystring: formatOnly,
    },
  }, async (req, reply) => {
    const { id } = req.params;
    // A malformed id names no resource: 404 like an unknown one (and it may be a patient id: never echoed).
    const study = ID.test(id) && Number.isSafeInteger(Number(id)) ? await deps.store.studyById(Number(id)) : null;
    if (study === null) throw notFound(ID.test(id) ? `ImagingStudy/${id} is not known` : 'no ImagingStudy has that id (ids are digits)');
    if (study.record.deleted) throw gone(`ImagingStudy/${id} was deleted at its centre`);
    await audited(req, 1, null);
    return send(reply, 200, toImagingStudy(study));
  });
}

/** Unread (no body, no key lookup), like the receiver's other unknown routes, but in FHIR's terms. */
function otherRoutes(scope: FastifyInstance): void {
  // '' is the base itself (/fhir and /fhir/): no system-level interaction is supported either.
  for (const url of ['', '/*']) {
    scope.route({
      method: ['DELETE', 'GET', 'OPTIONS', 'PATCH', 'POST', 'PUT'],
      url,
      schema: { summary: 'FHIR: any other interaction or resource type (404 / 405 OperationOutcome)' },
      onRequest: async (req, reply) => {
        throw unknownRoute(req, reply);
      },
      handler: async () => undefined,
    });
  }
}

/** FHIR R4, read-only ImagingStudy (docs/fhir.md), in a scope of its own: its errors are OperationOutcomes. */
export function fhirRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { audited, onError } = readAudit(deps.store.access);
  const guard: Guard = { onRequest: requireRole(deps.store.access, 'token', deps.limiter), onError };
  app.register(async (scope) => {
    scope.setErrorHandler(fhirErrorHandler);
    // Before authentication: a format this server cannot answer in is refused whoever asks.
    scope.addHook('onRequest', async (req) => checkFormat((req.query as Query)._format, req.headers.accept));
    metadataRoute(scope, deps);
    searchRoute(scope, deps, guard, audited);
    readRoute(scope, deps, guard, audited);
    otherRoutes(scope);
  }, { prefix: '/fhir' });
}
