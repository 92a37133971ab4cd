import { invalid, notSupported } from './operation-outcome.js';

/** Every FHIR answer, errors included. */
export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

const JSON_FORMATS = new Set(['json', 'application/json', 'application/fhir+json', 'application/json+fhir']);
const JSON_RANGES = new Set(['*/*', 'application/*', 'application/json', 'application/fhir+json', 'application/json+fhir']);

const mediaType = (v: string): string => v.split(';')[0]!.trim().toLowerCase();

/** An Accept header that admits JSON: absent or blank, or any range covering it with q > 0. */
function acceptsJson(accept: string): boolean {
  if (accept.trim() === '') return true;
  return accept.split(',').some((range) => {
    const [type, ...params] = range.split(';');
    const q = params.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith('q='));
    return JSON_RANGES.has(mediaType(type ?? '')) && (q === undefined || Number(q.slice(2)) > 0);
  });
}

/**
 * JSON only (R4 http.html, Content Types): `_format` (json, application/json, application/fhir+json)
 * overrides Accept; xml or anything else is 406, as is an Accept that admits no JSON.
 */
export function checkFormat(format: string | string[] | undefined, accept: string | undefined): void {
  const message = 'only JSON is served (application/fhir+json): ask with _format=json or Accept: application/fhir+json';
  if (format !== undefined) {
    // An unencoded `+` (application/fhir+json) arrives as a space.
    if (Array.isArray(format)) throw invalid('search parameter "_format" may be given only once');
    if (!JSON_FORMATS.has(mediaType(format.replace(/ /g, '+')))) throw notSupported(message, 406);
    return;
  }
  if (accept !== undefined && !acceptsJson(accept)) throw notSupported(message, 406);
}
