import type { FhirResource } from './imaging-study.js';

/**
 * Bundle links are absolute: RECEIVER_PUBLIC_URL when set, else the request's protocol and Host
 * (X-Forwarded-* only from RECEIVER_TRUST_PROXY, as fastify's req.protocol/req.host read them).
 */
export function baseUrlOf(publicUrl: string | null, protocol: string, host: string | undefined): string | null {
  if (publicUrl !== null) return publicUrl;
  // A Host that is not a host[:port] would make links to nowhere (or somewhere else).
  if (host === undefined || !/^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(host)) return null;
  return `${protocol}://${host}`;
}

/** Percent-encoded, but keeping `:` `/` `,` readable (allowed in a query, RFC 3986). */
const encode = (s: string): string => encodeURIComponent(s).replace(/%3A/gi, ':').replace(/%2F/gi, '/').replace(/%2C/gi, ',');

export function searchUrl(base: string, params: [string, string][]): string {
  const query = params.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&');
  return `${base}/fhir/ImagingStudy${query === '' ? '' : `?${query}`}`;
}

export interface SearchsetParts {
  base: string;
  /** The parameters applied (self), `_count` among them when given; no `_cursor`. */
  used: [string, string][];
  pageSize: number;
  cursor: string | null;
  nextCursor: string | null;
  total: number | null;
  resources: FhirResource[];
}

/** A searchset Bundle: self (the search as performed), next while more match, one entry per match. */
export function searchset(p: SearchsetParts): FhirResource {
  const self: [string, string][] = p.cursor === null ? p.used : [...p.used, ['_cursor', p.cursor]];
  const link = [{ relation: 'self', url: searchUrl(p.base, self) }];
  if (p.nextCursor !== null) {
    const filters = p.used.filter(([k]) => k !== '_count');
    link.push({ relation: 'next', url: searchUrl(p.base, [...filters, ['_count', String(p.pageSize)], ['_cursor', p.nextCursor]]) });
  }
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    ...(p.total === null ? {} : { total: p.total }),
    link,
    ...(p.resources.length === 0 ? {} : {
      entry: p.resources.map((resource) => ({ fullUrl: `${p.base}/fhir/ImagingStudy/${String(resource.id)}`, resource, search: { mode: 'match' } })),
    }),
  };
}
