import { PassThrough, Transform, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ReceiverLimits } from '../config.js';
import { ApiError, tooLarge } from './api-error.js';

type DecodedStream = PassThrough & { receivedEncodedLength?: number };

function byteLimit(limit: number, what: string, onBytes: (total: number) => void): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      total += chunk.length;
      onBytes(total);
      if (total > limit) callback(Object.assign(tooLarge(`${what} larger than ${limit} bytes`), { statusCode: 413 }));
      else callback(null, chunk);
    },
  });
}

/**
 * A preParsing hook: counts the bytes on the wire against `bodyBytes`, gunzips `Content-Encoding: gzip`
 * and counts the decompressed bytes against `decompressedBytes`, failing at the first byte too many,
 * so a gzip bomb costs at most the limit in memory. The request stream itself is never destroyed,
 * so the client still reads the 413.
 */
export function decodeBody(limits: ReceiverLimits) {
  return async (req: FastifyRequest, _reply: FastifyReply, payload: Readable): Promise<Readable> => {
    const encoding = String(req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (encoding !== 'gzip' && encoding !== 'identity') {
      throw new ApiError(415, 'unsupported_encoding', 'Content-Encoding must be gzip or identity');
    }
    const out: DecodedStream = new PassThrough();
    const wire = byteLimit(limits.bodyBytes, 'body', (n) => {
      out.receivedEncodedLength = n;
    });
    const stages: (Transform | ReturnType<typeof createGunzip>)[] = [wire];
    if (encoding === 'gzip') {
      stages.push(createGunzip(), byteLimit(limits.decompressedBytes, 'decompressed body', () => undefined));
    }
    const fail = (err: Error & { statusCode?: number }) => {
      payload.unpipe(wire);
      for (const s of stages) s.destroy();
      if (err.statusCode === undefined) err.statusCode = 400;
      out.destroy(err);
    };
    for (const s of stages) s.on('error', fail);
    let tail: Readable = payload.pipe(wire);
    for (const s of stages.slice(1)) tail = tail.pipe(s);
    tail.pipe(out);
    return out;
  };
}
