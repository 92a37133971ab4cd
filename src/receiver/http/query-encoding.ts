import type { FastifyRequest } from 'fastify';
import { badRequest } from './api-error.js';

/**
 * A name is echoed only when it looks like a parameter, never like a patient id: an API one
 * (`patient_id`, FHIR's `_count`, `patient:identifier`), a DICOM keyword (`PatientName`) or tag (`00100010`).
 */
const ECHOABLE = /^(?:[a-z_][a-z_]{0,39}(?:[:.][a-zA-Z]{1,30}){0,2}|[A-Z][a-z]+(?:[A-Z][a-z]*){1,8}|00[0-9A-Fa-f]{6})$/;

function decoded(part: string): string | null {
  try {
    return decodeURIComponent(part.replace(/\+/g, ' '));
  } catch {
    return null;
  }
}

function decodes(part: string): boolean {
  return decoded(part) !== null;
}

/** The query's name=value pairs, decoded as the query parser decodes them (run after checkQueryEncoding). */
function queryPairs(url: string): [string, string][] {
  const at = url.indexOf('?');
  if (at === -1) return [];
  return url.slice(at + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=');
    return [decoded(eq === -1 ? pair : pair.slice(0, eq)) ?? '', decoded(eq === -1 ? '' : pair.slice(eq + 1)) ?? ''];
  });
}

const nameOf = (name: string, where: string) => (ECHOABLE.test(name) ? `${where} "${name}"` : `a ${where} (its name is not shown)`);

/** The names of a route's integer query parameters, from its querystring schema. */
function integerParameters(req: FastifyRequest): Set<string> {
  const props = (req.routeOptions.schema?.querystring as { properties?: Record<string, { type?: unknown }> } | undefined)?.properties ?? {};
  return new Set(Object.entries(props).filter(([, p]) => p.type === 'integer').map(([name]) => name));
}

/** ASCII digits, as an integer query parameter must be (leading zeros allowed: `05` is 5). */
const DIGITS = /^[0-9]+$/;

/**
 * Query and path values the schema cannot judge, checked after authentication (so a valid token's
 * refusal is audited) and before validation. A NUL: ingest drops NULs from every stored value, so a
 * filter holding one could only match nothing (200, empty) — refused, naming the parameter, never
 * quoting the value. An integer parameter must be ASCII digits: the schema's type coercion would
 * read `0x10`, `1e2`, `+5`, ` 5` and `5.0` as numbers.
 */
export function checkQueryValues(req: FastifyRequest): void {
  const integers = integerParameters(req);
  for (const [name, value] of queryPairs(req.url)) {
    if (value.includes('\0') || name.includes('\0')) throw badRequest(`${nameOf(name, 'query parameter')} must not contain a NUL character`);
    if (integers.has(name) && !DIGITS.test(value)) throw badRequest(`query parameter "${name}" must be a whole number (ASCII digits only, given once)`);
  }
  for (const [name, value] of Object.entries((req.params ?? {}) as Record<string, unknown>)) {
    if (typeof value === 'string' && value.includes('\0')) throw badRequest(`${nameOf(name, 'path parameter')} must not contain a NUL character`);
  }
}

/**
 * The query string's percent-encoding, checked before anything reads it: the query parser keeps a
 * malformed `%E0%A4%A` or `%FF%FE` as it is, so a filter would silently match nothing (200, empty)
 * where the same bytes in a path are a 400. Answered the same 400, naming the parameter.
 */
export function checkQueryEncoding(req: FastifyRequest): void {
  const at = req.url.indexOf('?');
  if (at === -1) return;
  for (const pair of req.url.slice(at + 1).split('&')) {
    const eq = pair.indexOf('=');
    const name = eq === -1 ? pair : pair.slice(0, eq);
    const value = eq === -1 ? '' : pair.slice(eq + 1);
    if (decodes(name) && decodes(value)) continue;
    const shown = decodes(name) ? decodeURIComponent(name) : '';
    throw badRequest(ECHOABLE.test(shown)
      ? `query parameter "${shown}" has bad percent-encoding (not %XX of UTF-8)`
      : 'a query parameter has bad percent-encoding (not %XX of UTF-8; its name is not shown)');
  }
}
