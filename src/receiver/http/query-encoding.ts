import type { FastifyRequest } from 'fastify';
import { badRequest } from './api-error.js';

/** A name is echoed only when it looks like an API parameter, never like a patient id. */
const ECHOABLE = /^[a-z_]{1,40}$/;

function decodes(part: string): boolean {
  try {
    decodeURIComponent(part.replace(/\+/g, ' '));
    return true;
  } catch {
    return false;
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
