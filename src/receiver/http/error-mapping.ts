import type { FastifyError, FastifySchemaValidationError } from 'fastify';
import { httpStatusFor, IndexerError } from '../../shared/errors.js';
import { ApiError } from './api-error.js';

/** Seconds a client should wait before retrying after a 503. */
export const RETRY_AFTER_SECONDS = 5;

/**
 * fastify's own client errors, with messages of our own: theirs may quote the URL (which can hold a
 * patient id) or a header. Anything else of theirs in 4xx gets a generic message.
 */
const FASTIFY_ERRORS: Record<string, { status: number; error: string; message: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, error: 'payload_too_large', message: 'request body too large' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, error: 'bad_request', message: 'request body length does not match Content-Length' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, error: 'bad_request', message: 'request body is empty' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, error: 'bad_request', message: 'request body is not valid JSON' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, error: 'unsupported_media_type', message: 'unsupported Content-Type' },
  FST_ERR_CTP_INVALID_TYPE: { status: 400, error: 'bad_request', message: 'invalid Content-Type' },
  FST_ERR_BAD_URL: { status: 400, error: 'bad_request', message: 'the URL is not valid (bad percent-encoding)' },
  FST_ERR_ASYNC_CONSTRAINT: { status: 400, error: 'bad_request', message: 'bad request' },
  FST_ERR_HANDLER_TIMEOUT: { status: 503, error: 'unavailable', message: 'the request took too long, retry later' },
};

export interface Classified {
  status: number;
  body: { error: string; message: string };
  retryAfter?: number;
}

/** Maps any error to a status and a body that says nothing internal and echoes no submitted value. */
export function classify(err: FastifyError | Error): Classified {
  if (err instanceof ApiError) {
    return { status: err.status, body: { error: err.error, message: err.message }, ...(err.retryAfter ? { retryAfter: err.retryAfter } : {}) };
  }
  // The store raised it (StoreUnavailableError) or another of ours: ERROR_TABLE gives the status.
  // Nothing was stored: the client retries later, the agent keeps its checkpoint.
  if (err instanceof IndexerError && httpStatusFor(err) === 503) {
    return { status: 503, body: { error: 'unavailable', message: 'the database is unavailable, retry later' }, retryAfter: RETRY_AFTER_SECONDS };
  }
  // A refusal of ours the client can act on (e.g. QUERY_TOO_BROAD): its message and hint are written for it.
  if (err instanceof IndexerError && httpStatusFor(err) >= 400 && httpStatusFor(err) < 500) {
    const message = err.hint ? `${err.message}; ${err.hint}` : err.message;
    return { status: httpStatusFor(err), body: { error: err.code.toLowerCase(), message } };
  }
  const e = err as FastifyError & { code?: string };
  // Our schemaErrorFormatter wrote the message: it names the parameter, never its value.
  if (e.validation) return { status: 400, body: { error: 'bad_request', message: e.message } };
  const known = FASTIFY_ERRORS[e.code ?? ''];
  if (known) return { status: known.status, body: { error: known.error, message: known.message }, ...(known.status === 503 ? { retryAfter: RETRY_AFTER_SECONDS } : {}) };
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500) {
    // e.g. secure-json-parse's prototype-poisoning SyntaxError (400).
    const error = status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : 'bad_request';
    const message = status === 413 ? 'request body too large' : 'invalid request body';
    return { status, body: { error, message } };
  }
  return { status: 500, body: { error: 'internal', message: 'internal error' } };
}

const WHERE: Record<string, string> = { querystring: 'query parameter', params: 'path parameter', body: 'body field', headers: 'header' };
/** A name is echoed only when it looks like an API parameter (a typo of one), never like a patient id or name. */
const ECHOABLE = /^[a-z_]{1,40}$/;

const TYPE_WORDS: Record<string, string> = {
  string: 'must be a single text value (given once)',
  integer: 'must be a whole number (given once)',
  boolean: 'must be true or false (given once)',
  object: 'must be a JSON object',
  array: 'must be a JSON array',
};

function describe(e: FastifySchemaValidationError): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'type': return TYPE_WORDS[String(p.type)] ?? `must be of type ${String(p.type)}`;
    case 'format': return p.format === 'date' ? 'must be a real calendar date YYYY-MM-DD' : `must be a valid ${String(p.format)}`;
    case 'pattern': return 'has the wrong form';
    case 'minLength': return 'must not be empty';
    case 'maxLength': return `must be at most ${String(p.limit)} characters`;
    case 'minimum': case 'maximum': return `is out of range (${e.message ?? ''})`;
    case 'enum': return `must be one of ${(p.allowedValues as unknown[]).join(', ')}`;
    default: return e.message ?? 'is invalid';
  }
}

/**
 * A fastify schemaErrorFormatter: one clear sentence naming the parameter and what it must be,
 * quoting no value (ajv messages never quote data; an unknown parameter's name only when it looks
 * like one). `accepted` lists, per part of the request, the names a route knows, for the message.
 */
export function schemaErrorFormatter(accepted: Partial<Record<string, string[]>> = {}) {
  return (errors: FastifySchemaValidationError[], dataVar: string): Error => {
    const e = errors[0]!;
    const p = e.params as Record<string, unknown>;
    const where = WHERE[dataVar] ?? dataVar;
    let message: string;
    if (e.keyword === 'additionalProperties') {
      const name = String(p.additionalProperty ?? '');
      message = ECHOABLE.test(name) ? `unknown ${where} "${name}"` : `unknown ${where} (its name is not shown)`;
      const known = accepted[dataVar] ?? [];
      if (known.length > 0) message += `; accepted: ${known.join(', ')}`;
    } else if (e.keyword === 'required') {
      message = `${where} "${String(p.missingProperty)}" is required`;
    } else {
      const name = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
      message = name === '' ? `${dataVar} ${describe(e)}` : `${where} "${name}" ${describe(e)}`;
    }
    return Object.assign(new Error(message), { validation: errors, validationContext: dataVar, statusCode: 400 });
  };
}
