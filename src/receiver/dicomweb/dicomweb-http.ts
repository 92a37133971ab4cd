import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../http/api-error.js';
import { WARNING_SERVICE } from './qido-params.js';

/** HTTP details of the DICOMweb routes: media types, the auth challenge, the not-held answer. */

export const DICOM_JSON = 'application/dicom+json';

/** What a QIDO-RS answer can be served as (its body is DICOM JSON, which is JSON). */
const SERVED = new Set([DICOM_JSON, 'application/json', 'application/*', '*/*']);

/** Splits on `sep` outside double quotes (`type="a,b"` is one parameter). */
function splitOutside(text: string, sep: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i += 1) {
    if (text[i] === '"') quoted = !quoted;
    else if (text[i] === sep && !quoted) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** `q=0` refuses a media range (RFC 9110 §12.4.2). */
function refused(params: string[]): boolean {
  return params.some((p) => {
    const m = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(p);
    return m !== null && Number(m[1]) === 0;
  });
}

/** Absent or blank: anything goes. Otherwise one of its media ranges must admit DICOM JSON. */
export function acceptsDicomJson(accept: string | string[] | undefined): boolean {
  const header = Array.isArray(accept) ? accept.join(',') : accept;
  if (header === undefined || header.trim() === '') return true;
  return splitOutside(header, ',').some((range) => {
    const [type = '', ...params] = splitOutside(range, ';');
    return SERVED.has(type.trim().toLowerCase()) && !refused(params);
  });
}

export const notAcceptable = (): ApiError =>
  new ApiError(406, 'not_acceptable', `this index answers QIDO-RS as ${DICOM_JSON} (or application/json) only; send Accept: ${DICOM_JSON}`);

export const CHALLENGE = 'Basic realm="pacs-indexer", Bearer realm="pacs-indexer"';

type Hook = (req: FastifyRequest, reply: FastifyReply) => Promise<void>;

/** An auth hook whose 401 names the schemes it takes (Orthanc and browsers answer the challenge). */
export function withChallenge(hook: Hook): Hook {
  return async (req, reply) => {
    try {
      await hook(req, reply);
    } catch (err) {
      if ((err as { status?: unknown }).status === 401) void reply.header('www-authenticate', CHALLENGE);
      throw err;
    }
  };
}

const NOT_HELD_TEXT = "This index holds study-level records only: series, instances and images are held by the centre's own PACS (its RetrieveURL, where the study lists one).";
export const WARNING_NOT_HELD = `299 ${WARNING_SERVICE}: "${NOT_HELD_TEXT}"`;

/** Series, instances, metadata, rendered images…: answered 404 with a Warning saying where they are. */
export function notHeld(reply: FastifyReply): ApiError {
  void reply.header('warning', WARNING_NOT_HELD);
  return new ApiError(404, 'not_held', NOT_HELD_TEXT);
}
