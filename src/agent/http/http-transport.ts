import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import pRetry, { AbortError } from 'p-retry';
import { Agent, request } from 'undici';
import { ConfigError, IndexerError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { AgentConfig } from '../config.js';
import { configSchema } from '../config-schema.js';
import { exceededSize, permanentReason, type UrlSetting } from '../delivery/http-failure.js';
import { receiverFailures, type FailureMapping } from './request-failures.js';

/** The http settings; the two limits are optional for callers that build settings by hand (defaults apply). */
export type HttpSettings = Omit<AgentConfig['http'], 'deadline_ms' | 'max_response_bytes'>
  & Partial<Pick<AgentConfig['http'], 'deadline_ms' | 'max_response_bytes'>>;

export const DEFAULT_DEADLINE_MS = configSchema.http.deadline_ms.default;
export const DEFAULT_MAX_RESPONSE_BYTES = configSchema.http.max_response_bytes.default;

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

/** The overall deadline of one attempt passed: retried like any timeout. */
class DeadlineExceeded extends Error {
  constructor(ms: number) {
    super(`no complete answer within http.deadline_ms (${ms} ms)`);
    this.name = 'DeadlineExceeded';
  }
}

/**
 * One keep-alive connection pool per receiver. A private CA is added to the public ones (never
 * replacing verification). Answers larger than http.max_response_bytes are cut off by undici as
 * they stream in (the socket is destroyed), so a hostile receiver cannot grow the agent's memory.
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
    maxResponseSize: http.max_response_bytes ?? DEFAULT_MAX_RESPONSE_BYTES,
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

export interface RequestOptions {
  agent: Agent;
  http: HttpSettings;
  log: Logger;
  signal: AbortSignal;
  /** What is being sent, for logs (e.g. {batch: 3, records: 500}). */
  what: Record<string, unknown>;
  /** The configuration key holding the URL, for hints (default "url"). */
  setting?: UrlSetting;
  /** The log message of a failed attempt (default "receiver post failed"). */
  failedMessage?: string;
  /** The hint when retries run out. */
  unavailableHint?: string;
  /**
   * What each failure means to the caller; by default the receiver's (RECEIVER_* errors, with
   * `setting` and `unavailableHint`). Orthanc maps them into the database family.
   */
  failures?: FailureMapping;
}

export interface RequestSpec {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: Buffer;
}

/** An AbortSignal that fires on the pass's signal or after `ms`, whichever comes first. */
function deadlineSignal(outer: AbortSignal, ms: number): { signal: AbortSignal; expired: () => boolean; done: () => void } {
  const ac = new AbortController();
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    ac.abort(new DeadlineExceeded(ms));
  }, ms);
  const onAbort = () => ac.abort(outer.reason);
  if (outer.aborted) onAbort();
  else outer.addEventListener('abort', onAbort, { once: true });
  return {
    signal: ac.signal,
    expired: () => expired,
    done: () => {
      clearTimeout(timer);
      outer.removeEventListener('abort', onAbort);
    },
  };
}

/** One attempt: headers and whole body within http.deadline_ms, the body within http.max_response_bytes. */
async function attempt(url: string, spec: RequestSpec, opts: RequestOptions, failures: FailureMapping): Promise<HttpResponse> {
  const { http } = opts;
  const deadlineMs = http.deadline_ms ?? DEFAULT_DEADLINE_MS;
  const deadline = deadlineSignal(opts.signal, deadlineMs);
  let status: number;
  let text: string;
  let retryAfter: string | string[] | undefined;
  try {
    const res = await request(url, {
      method: spec.method, headers: spec.headers, body: spec.body, dispatcher: opts.agent,
      headersTimeout: http.timeout_ms, bodyTimeout: http.timeout_ms, signal: deadline.signal,
    });
    text = await res.body.text();
    status = res.statusCode;
    retryAfter = res.headers['retry-after'];
  } catch (err) {
    if (opts.signal.aborted) throw err;
    const request = { method: spec.method, url };
    if (exceededSize(err)) throw new AbortError(failures({ kind: 'too-large', cap: http.max_response_bytes ?? DEFAULT_MAX_RESPONSE_BYTES, cause: err }, request));
    const reason = permanentReason(err);
    if (reason) throw new AbortError(failures({ kind: 'permanent', reason, cause: err }, request));
    if (deadline.expired()) throw new DeadlineExceeded(deadlineMs);
    throw err;
  } finally {
    deadline.done();
  }
  if (status === 401 || status === 403) throw new AbortError(failures({ kind: 'refused', status, text }, { method: spec.method, url }));
  if (status === 429 || status >= 500) throw new RetryableStatus(status, parseRetryAfter(retryAfter));
  return { status, text };
}

/**
 * Sends with bounded retries (exponential backoff with jitter) on outages: refused or reset
 * connections, timeouts (idle and overall), 429 and 5xx. 401/403, an oversized answer and
 * permanent failures (unknown host, TLS mismatch, not HTTP) stop at once. Other statuses are
 * returned for the caller to judge. Every request of the agent (receiver and Orthanc) goes
 * through here; `opts.failures` says what a failure means to the caller.
 */
export async function requestWithRetry(url: string, spec: RequestSpec, opts: RequestOptions): Promise<HttpResponse> {
  const { http, log, signal } = opts;
  const failures = opts.failures ?? receiverFailures(opts.setting, opts.unavailableHint);
  try {
    return await pRetry(() => attempt(url, spec, opts, failures), {
      retries: http.retries,
      minTimeout: http.min_backoff_ms,
      maxTimeout: http.max_backoff_ms,
      factor: 2,
      randomize: true,
      signal,
      shouldRetry: () => !signal.aborted,
      onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
        log.warn({ ...opts.what, attempt: attemptNumber, retries_left: retriesLeft, reason: describe(error) }, opts.failedMessage ?? 'receiver post failed');
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
    throw failures({
      kind: 'unavailable', attempts: http.retries + 1, last: describe(err), cause: err,
      status: err instanceof RetryableStatus ? err.status : undefined, timedOut: timedOut(err),
    }, { method: spec.method, url });
  }
}

export function postWithRetry(url: string, headers: Record<string, string>, body: Buffer, opts: RequestOptions): Promise<HttpResponse> {
  return requestWithRetry(url, { method: 'POST', headers, body }, opts);
}

const UNDICI_TIMEOUT = /^UND_ERR_(CONNECT|HEADERS|BODY)_TIMEOUT$/;

/** The overall deadline or one of undici's idle timeouts. */
function timedOut(err: unknown): boolean {
  return err instanceof DeadlineExceeded || UNDICI_TIMEOUT.test(String((err as { code?: unknown } | null)?.code ?? ''));
}

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string };
  if (err instanceof RetryableStatus || err instanceof DeadlineExceeded) return err.message;
  return e.code ? `${e.code}` : (e.message ?? String(err));
}
