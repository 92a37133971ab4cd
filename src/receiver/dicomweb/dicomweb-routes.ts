import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { requireRole } from '../http/auth.js';
import { readAudit } from '../http/read-audit.js';
import { errorResponses } from '../http/schemas.js';
import type { StudyMatch } from '../store/study-match.js';
import { studyToDicomJson } from './dicom-json.js';
import { acceptsDicomJson, DICOM_JSON, notAcceptable, notHeld, withChallenge } from './dicomweb-http.js';
import { centersOf } from './qido-centers.js';
import { ATTRIBUTES } from './qido-keys.js';
import { parseQido, WARNING_LIMIT, type QidoQuery, type QueryValues } from './qido-params.js';

const error = { type: 'object', properties: { error: { type: 'string' }, message: { type: 'string' } } } as const;

/** Documentation only (no types: keys may be repeated, unknown ones are ignored, the parser judges values). */
const searchQuery = {
  type: 'object',
  additionalProperties: true,
  properties: {
    ...Object.fromEntries(ATTRIBUTES.filter((a) => a.match !== null).map((a) => [a.private ? a.tag : a.keyword, {
      description: `${a.keyword} (${a.tag}, ${a.vr}); also by tag${a.list ? '; a list: \\-separated or repeated' : ''}`,
    }])),
    includefield: { description: 'attributes to add (keywords or tags, comma-separated or repeated), or all' },
    fuzzymatching: { description: 'true is answered with Warning 299 (not supported; names always match case- and accent-insensitively)' },
    limit: { description: 'studies per answer (ASCII digits, at least 1); capped by RECEIVER_DICOMWEB_MAX_RESULTS' },
    offset: { description: 'studies to skip (ASCII digits); at most RECEIVER_QUERY_MAX_OFFSET' },
  },
} as const;

const anyQuery = { type: 'object', additionalProperties: true } as const;
const studies = { type: 'array', items: { type: 'object', additionalProperties: true } } as const;

/** The match with the centres its centre keys select (the directory is read only when a name is matched). */
async function withCenters(deps: AppDeps, q: QidoQuery): Promise<StudyMatch> {
  if (!q.centers) return q.match;
  const codes = q.centers.institution === undefined ? q.centers.codes! : centersOf(q.centers, await deps.store.access.centerDirectory());
  return { ...q.match, centers: codes };
}

/** QIDO-RS at study level (docs/dicomweb.md): a read-only study index over the same store, tokens and audit. */
export function dicomwebRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { audited, onError } = readAudit(deps.store.access);
  const guard = { onRequest: withChallenge(requireRole(deps.store.access, 'token', deps.limiter)), onError };
  const security: Record<string, string[]>[] = [{ bearer: [] }, { basic: [] }];
  const bounds = { maxResults: deps.reads.dicomwebMaxResults, maxOffset: deps.reads.maxOffset };

  // `{root}/studies/` too: clients that join the root and the resource with a slash of their own.
  for (const url of ['/dicom-web/studies', '/dicom-web/studies/']) app.get(url, {
    ...guard,
    schema: {
      summary: 'QIDO-RS: search for studies (application/dicom+json), newest first, limit/offset paged',
      security,
      querystring: searchQuery,
      response: { 200: studies, ...errorResponses, 406: error },
    },
  }, async (req: FastifyRequest, reply: FastifyReply) => {
    if (!acceptsDicomJson(req.headers.accept)) throw notAcceptable();
    const q = parseQido(req.query as QueryValues, bounds);
    const page = await deps.store.match(await withCenters(deps, q), { limit: q.limit, offset: q.offset });
    const body = page.rows.map((row) => studyToDicomJson(row, q.include));
    const warnings = page.more && q.capped ? [...q.warnings, WARNING_LIMIT] : q.warnings;
    await audited(req, body.length, null);
    if (warnings.length > 0) void reply.header('warning', warnings);
    // A Buffer: fastify appends `; charset=utf-8` to a JSON type sent as a string, a parameter
    // application/dicom+json does not define (DICOM JSON is UTF-8 by definition).
    return reply.header('content-type', DICOM_JSON).send(Buffer.from(JSON.stringify(body), 'utf8'));
  });

  const notHeldSchema = (summary: string) => ({ summary, security, querystring: anyQuery, response: { 404: error, ...errorResponses } });
  const refuse = async (_req: FastifyRequest, reply: FastifyReply) => {
    throw notHeld(reply);
  };
  for (const [url, summary] of [
    ['/dicom-web/studies/:uid', "QIDO-RS/WADO-RS below study level: 404 not held here (see the study's RetrieveURL)"],
    ['/dicom-web/studies/:uid/*', "Series, instances, metadata, rendered: 404 not held here (see the study's RetrieveURL)"],
    ['/dicom-web/series', 'QIDO-RS series search: 404 not held by this study-level index'],
    ['/dicom-web/instances', 'QIDO-RS instance search: 404 not held by this study-level index'],
  ] as const) {
    app.get(url, { ...guard, schema: notHeldSchema(summary) }, refuse);
  }
}
