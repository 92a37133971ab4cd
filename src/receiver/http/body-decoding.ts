import { PassThrough, Transform, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ReceiverLimits } from '../config.js';
import { ApiError, badRequest, busy, tooLarge } from './api-error.js';
import { JsonStructureScanner, MAX_JSON_DEPTH } from './json-structure.js';
import type { Metrics } from './metrics.js';

type DecodedStream = PassThrough & { receivedEncodedLength?: number };

/** Seconds a client refused for lack of body memory should wait. */
const BUSY_RETRY_AFTER_SECONDS = 2;

/**
 * Decoded body bytes held by all requests in flight, against one limit: a request whose next chunk
 * would pass it is refused (503 + Retry-After) rather than read further, so any number of
 * concurrent bodies costs at most the limit (times the parse overhead) in memory.
 */
export class BodyBudget {
  private used = 0;

  constructor(readonly limit: number, private readonly metrics?: Metrics) {}

  tryReserve(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    this.metrics?.setBodyBytesInFlight(this.used);
    return true;
  }

  release(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
    this.metrics?.setBodyBytesInFlight(this.used);
  }

  get inUse(): number {
    return this.used;
  }
}

function meter(onChunk: (chunk: Buffer) => Error | null): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const err = onChunk(chunk);
      if (err) callback(err);
      else callback(null, chunk);
    },
  });
}

function encodingOf(req: FastifyRequest): 'gzip' | 'identity' {
  const encoding = String(req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding === 'gzip' || encoding === 'x-gzip') return 'gzip';
  if (encoding === 'identity' || encoding === '') return 'identity';
  throw new ApiError(415, 'unsupported_encoding', 'Content-Encoding must be gzip or identity');
}

/**
 * Nesting no record has is the client's error (400); too many tokens is a batch too large for this
 * receiver (413: the agent halves its batch and re-sends).
 */
function structureError(violation: 'depth' | 'tokens', maxTokens: number): ApiError {
  return violation === 'depth'
    ? badRequest(`request body nests JSON deeper than ${MAX_JSON_DEPTH} levels`)
    : tooLarge(`request body holds more than ${maxTokens} JSON tokens (values and keys): send smaller batches`);
}

const JSON_MEDIA_TYPES = new Set(['application/json', '']);
const UTF8 = /^utf-?8$/i;

/**
 * Every body is JSON in UTF-8: `application/json` or no Content-Type at all (legacy clients post
 * JSON without one). Another media type (text/plain, forms) or a charset other than UTF-8, which
 * would be decoded wrongly (U+FFFD in names), is refused before a byte is read: 415.
 */
function checkContentType(req: FastifyRequest): void {
  const raw = String(req.headers['content-type'] ?? '');
  const [type = '', ...params] = raw.split(';');
  if (!JSON_MEDIA_TYPES.has(type.trim().toLowerCase())) {
    throw new ApiError(415, 'unsupported_media_type', 'Content-Type must be application/json (UTF-8)');
  }
  for (const param of params) {
    const [name = '', value = ''] = param.split('=');
    if (name.trim().toLowerCase() === 'charset' && !UTF8.test(value.trim().replace(/^"|"$/g, ''))) {
      throw new ApiError(415, 'unsupported_media_type', 'the body must be UTF-8 (Content-Type charset other than utf-8)');
    }
  }
}

/** zlib's errors name its internals: the client is told its body is not valid gzip. */
function clientError(err: Error & { statusCode?: number; code?: string }): Error {
  if (err instanceof ApiError) return err;
  if (typeof err.code === 'string' && err.code.startsWith('Z_')) return badRequest('body is not valid gzip (corrupt or truncated)');
  return badRequest('request body could not be read');
}

/**
 * A preParsing hook: counts the bytes on the wire against `bodyBytes`, gunzips `Content-Encoding: gzip`
 * and counts the decoded bytes against `decompressedBytes` and the shared `budget`, and their JSON
 * structure against MAX_JSON_DEPTH and `jsonTokens`, failing at the first byte too many. The request stream is never destroyed (the client still reads the answer).
 * Whatever happens — the client
 * leaves, fastify answers first — the stages are torn down and no stream error goes unhandled.
 */
export function decodeBody(limits: ReceiverLimits, budget?: BodyBudget) {
  return async (req: FastifyRequest, reply: FastifyReply, payload: Readable): Promise<Readable> => {
    if (req.method === 'GET' || req.method === 'HEAD') return payload;
    checkContentType(req);
    const encoding = encodingOf(req);
    // An announced length past the wire limit is refused before a byte of it is read.
    if (Number(req.headers['content-length'] ?? 0) > limits.bodyBytes) throw tooLarge(`body larger than ${limits.bodyBytes} bytes`);
    const out: DecodedStream = new PassThrough();
    out.on('error', () => undefined); // fastify may have answered and stopped listening already
    let held = 0;
    let wireBytes = 0;
    let decodedBytes = 0;
    const wire = meter((chunk) => {
      wireBytes += chunk.length;
      out.receivedEncodedLength = wireBytes;
      return wireBytes > limits.bodyBytes ? tooLarge(`body larger than ${limits.bodyBytes} bytes`) : null;
    });
    const structure = new JsonStructureScanner(MAX_JSON_DEPTH, limits.jsonTokens);
    const decoded = meter((chunk) => {
      decodedBytes += chunk.length;
      if (encoding === 'gzip' && decodedBytes > limits.decompressedBytes) return tooLarge(`decompressed body larger than ${limits.decompressedBytes} bytes`);
      const violation = structure.scan(chunk);
      if (violation) return structureError(violation, limits.jsonTokens);
      if (budget && !budget.tryReserve(chunk.length)) return busy('the receiver is busy with other request bodies, retry later', BUSY_RETRY_AFTER_SECONDS);
      held += chunk.length;
      return null;
    });
    const stages: Transform[] = encoding === 'gzip' ? [wire, createGunzip(), decoded] : [wire, decoded];
    let done = false;
    const teardown = () => {
      if (done) return;
      done = true;
      payload.unpipe(stages[0]!);
      for (const s of stages) s.destroy();
    };
    const fail = (err: Error) => {
      if (done) return;
      teardown();
      // The rest of the body is read and discarded (no memory; the request timeout bounds it), so the
      // client, still sending, reads the answer instead of a connection reset.
      payload.resume();
      out.destroy(clientError(err));
    };
    for (const s of stages) s.on('error', fail);
    payload.on('error', fail);
    reply.raw.once('close', () => {
      teardown();
      if (budget) budget.release(held);
      held = 0;
      if (!out.writableEnded) out.destroy();
    });
    let tail: Readable = payload;
    for (const s of stages) tail = tail.pipe(s);
    tail.pipe(out);
    return out;
  };
}
