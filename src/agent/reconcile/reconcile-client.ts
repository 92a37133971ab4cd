import { setTimeout as sleep } from 'node:timers/promises';
import pRetry, { AbortError } from 'p-retry';
import { request, type Agent } from 'undici';
import { DeliveryError, IndexerError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { AgentConfig } from '../config.js';
import { createHttpAgent, parseRetryAfter } from '../delivery/http-transport.js';

/** One day of the receiver's holdings for this centre: live studies and the XOR of their digests. */
export interface ReceiverDay {
  day: string;
  count: number;
  digest: bigint;
}

/** One study the receiver holds for a day, tombstones included. */
export interface ReceiverStudy {
  study_iuid: string;
  source_seq: number;
  content_hash: string | null;
  deleted: boolean;
}

export interface ReconcileClient {
  days(signal: AbortSignal): Promise<ReceiverDay[]>;
  studies(day: string, signal: AbortSignal): Promise<ReceiverStudy[]>;
  close(): Promise<void>;
}

type ClientConfig = Pick<AgentConfig, 'url' | 'center' | 'key' | 'http'>;

export const DAY_PATTERN = /^(\d{4}-\d{2}-\d{2}|undated)$/;

class RetryableStatus extends Error {
  constructor(readonly status: number, readonly retryAfterMs: number | undefined) {
    super(`HTTP ${status}`);
  }
}

function offContract(what: string): DeliveryError {
  return new DeliveryError('RECEIVER_PROTOCOL', `receiver answered the reconcile ${what} request off-contract`, {
    hint: 'the receiver may be older than the agent: reconciliation needs /api/v2/centers/{center}/reconcile/*',
  });
}

function toInteger(v: unknown): number | null {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : null;
}

export function parseDays(body: unknown): ReceiverDay[] {
  const items = (body as { items?: unknown } | null)?.items;
  if (!Array.isArray(items)) throw offContract('days');
  return items.map((it: { day?: unknown; count?: unknown; digest?: unknown }) => {
    const count = toInteger(it?.count);
    const digest = typeof it?.digest === 'string' || typeof it?.digest === 'number' ? String(it.digest) : '';
    if (typeof it?.day !== 'string' || !DAY_PATTERN.test(it.day) || count === null || !/^\d+$/.test(digest)) throw offContract('days');
    return { day: it.day, count, digest: BigInt(digest) };
  });
}

export function parseStudies(body: unknown): ReceiverStudy[] {
  const items = (body as { items?: unknown } | null)?.items;
  if (!Array.isArray(items)) throw offContract('studies');
  return items.map((it: Record<string, unknown>) => {
    const seq = toInteger(it?.source_seq);
    const hash = it?.content_hash;
    if (typeof it?.study_iuid !== 'string' || seq === null || (hash !== null && hash !== undefined && typeof hash !== 'string')) throw offContract('studies');
    return { study_iuid: it.study_iuid, source_seq: seq, content_hash: (hash as string | null | undefined) ?? null, deleted: it.deleted === true || it.deleted === 1 };
  });
}

async function getOnce(url: string, key: string, agent: Agent, http: ClientConfig['http'], signal: AbortSignal): Promise<unknown> {
  const res = await request(url, {
    method: 'GET', headers: { authorization: `Bearer ${key}`, accept: 'application/json' },
    dispatcher: agent, headersTimeout: http.timeout_ms, bodyTimeout: http.timeout_ms, signal,
  });
  const text = await res.body.text();
  const status = res.statusCode;
  if (status === 401 || status === 403) {
    throw new AbortError(new DeliveryError('RECEIVER_AUTH', `receiver refused the centre key (HTTP ${status})`, {
      status, hint: 'check key / INDEXER_KEY and center (server.json)',
    }));
  }
  if (status === 429 || status >= 500) throw new RetryableStatus(status, parseRetryAfter(res.headers['retry-after']));
  if (status !== 200) {
    throw new AbortError(new DeliveryError('RECEIVER_PROTOCOL', `receiver answered HTTP ${status} to a reconcile request`, {
      status, hint: status === 404 ? 'the receiver does not offer reconciliation yet: upgrade it' : undefined,
    }));
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new AbortError(new DeliveryError('RECEIVER_PROTOCOL', 'receiver answered a reconcile request with a body that is not JSON'));
  }
}

/** The reconcile endpoints of the v2 protocol, with the same bounded retries as delivery. */
export function createReconcileClient(config: ClientConfig, log: Logger): ReconcileClient {
  const agent = createHttpAgent(config.http, 1);
  const base = `${config.url.replace(/\/+$/, '')}/api/v2/centers/${encodeURIComponent(config.center)}/reconcile`;
  const get = async (url: string, signal: AbortSignal): Promise<unknown> => {
    try {
      return await pRetry(() => getOnce(url, config.key, agent, config.http, signal), {
        retries: config.http.retries, minTimeout: config.http.min_backoff_ms, maxTimeout: config.http.max_backoff_ms,
        factor: 2, randomize: true, signal, shouldRetry: () => !signal.aborted,
        onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
          log.warn({ attempt: attemptNumber, retries_left: retriesLeft, reason: error.message }, 'receiver reconcile request failed');
          if (error instanceof RetryableStatus && error.retryAfterMs !== undefined && retriesLeft > 0) {
            await sleep(Math.min(error.retryAfterMs, config.http.max_backoff_ms), undefined, { signal }).catch(() => undefined);
          }
        },
      });
    } catch (err) {
      if (err instanceof IndexerError) throw err;
      if (signal.aborted) throw signal.reason instanceof IndexerError ? signal.reason : new IndexerError('INTERRUPTED', 'reconcile interrupted');
      throw new DeliveryError('RECEIVER_UNAVAILABLE', `receiver ${new URL(url).origin} unavailable after ${config.http.retries + 1} attempts (last: ${(err as Error).message})`, {
        cause: err, hint: 'nothing was repaired from this point: run reconcile again later',
      });
    }
  };
  return {
    async days(signal) {
      return parseDays(await get(`${base}/days`, signal));
    },
    async studies(day, signal) {
      return parseStudies(await get(`${base}/studies?day=${encodeURIComponent(day)}`, signal));
    },
    async close() {
      await agent.close();
    },
  };
}
