import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import pRetry, { AbortError } from 'p-retry';
import { Agent, request } from 'undici';
import { ConfigError, DeliveryError, IndexerError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { AgentConfig } from '../config.js';

export type HttpSettings = AgentConfig['http'];

export interface HttpResponse {
  status: number;
  text: string;
}

/** A response worth another try (429, 5xx); carries the server's Retry-After when given. */
class RetryableStatus extends Error {
  constructor(readonly status: number, readonly retryAfterMs: number | undefined) {
    super(`HTTP ${status}`);
  }
}

/**
 * One keep-alive connection pool per receiver. A private CA is added to the public ones
 * (never replacing verification).
 */
export function createHttpAgent(http: HttpSettings, connections: number): Agent {
  let ca: string[] | undefined;
  if (http.ca_file) {
    try {
      ca = [...rootCertificates, readFileSync(http.ca_file, 'utf8')];
    } catch (err) {
      throw new ConfigError(`http.ca_file ${http.ca_file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  return new Agent({
    connections: Math.max(1, connections),
    keepAliveTimeout: 30_000,
    connect: ca ? { ca, rejectUnauthorized: true } : { rejectUnauthorized: true },
  });
}

/** Retry-After as seconds or an HTTP date, in milliseconds. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export interface PostOptions {
  agent: Agent;
  http: HttpSettings;
  log: Logger;
  signal: AbortSignal;
  /** What is being sent, for logs (e.g. {batch: 3, records: 500}). */
  what: Record<string, unknown>;
}

async function postOnce(url: string, headers: Record<string, string>, body: Buffer, opts: PostOptions): Promise<HttpResponse> {
  const res = await request(url, {
    method: 'POST',
    headers,
    body,
    dispatcher: opts.agent,
    headersTimeout: opts.http.timeout_ms,
    bodyTimeout: opts.http.timeout_ms,
    signal: opts.signal,
  });
  const text = await res.body.text();
  const status = res.statusCode;
  if (status === 401 || status === 403) {
    throw new AbortError(
      new DeliveryError('RECEIVER_AUTH', `receiver refused the centre key (HTTP ${status})`, {
        status,
        hint: status === 401
          ? 'the key is missing or unknown to the receiver: check key / INDEXER_KEY'
          : 'the key belongs to another centre: check center (server.json) and key',
      }),
    );
  }
  if (status === 429 || status >= 500) throw new RetryableStatus(status, parseRetryAfter(res.headers['retry-after']));
  return { status, text };
}

/**
 * POSTs with bounded retries (exponential backoff with jitter) on network errors, timeouts, 429
 * and 5xx. 401/403 stop at once. Other statuses are returned for the caller to judge.
 */
export async function postWithRetry(url: string, headers: Record<string, string>, body: Buffer, opts: PostOptions): Promise<HttpResponse> {
  const { http, log, signal } = opts;
  try {
    return await pRetry(() => postOnce(url, headers, body, opts), {
      retries: http.retries,
      minTimeout: http.min_backoff_ms,
      maxTimeout: http.max_backoff_ms,
      factor: 2,
      randomize: true,
      signal,
      shouldRetry: () => !signal.aborted,
      onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
        log.warn({ ...opts.what, attempt: attemptNumber, retries_left: retriesLeft, reason: describe(error) }, 'receiver post failed');
        if (error instanceof RetryableStatus && error.retryAfterMs !== undefined && retriesLeft > 0) {
          await sleep(Math.min(error.retryAfterMs, http.max_backoff_ms), undefined, { signal }).catch(() => undefined);
        }
      },
    });
  } catch (err) {
    if (err instanceof IndexerError) throw err;
    if (signal.aborted) {
      throw signal.reason instanceof IndexerError ? signal.reason : new IndexerError('INTERRUPTED', 'delivery interrupted');
    }
    const origin = new URL(url).origin;
    throw new DeliveryError('RECEIVER_UNAVAILABLE', `receiver ${origin} unavailable after ${http.retries + 1} attempts (last: ${describe(err)})`, {
      cause: err,
      status: err instanceof RetryableStatus ? err.status : undefined,
      hint: 'nothing was acknowledged: the next run resends from the same position',
    });
  }
}

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string };
  if (err instanceof RetryableStatus) return err.message;
  return e.code ? `${e.code}` : (e.message ?? String(err));
}
