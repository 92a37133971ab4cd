import type { Agent } from 'undici';
import { DeliveryError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { AgentConfig } from '../config.js';
import { unexpectedStatus } from '../delivery/http-failure.js';
import { createHttpAgent, requestWithRetry } from '../http/http-transport.js';
import { warnIfPlainHttp } from '../delivery/receiver-url.js';

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
  /**
   * The centre's days; with `range`, only those (a receiver older than ranges answers every day:
   * callers keep only the days they asked for).
   */
  days(signal: AbortSignal, range?: { from: string; to: string }): Promise<ReceiverDay[]>;
  studies(day: string, signal: AbortSignal): Promise<ReceiverStudy[]>;
  close(): Promise<void>;
}

type ClientConfig = Pick<AgentConfig, 'url' | 'center' | 'key' | 'http'>;

export const DAY_PATTERN = /^(\d{4}-\d{2}-\d{2}|undated)$/;

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

/** One GET with delivery's transport (deadline, size cap, bounded retries); the body parsed as JSON. */
async function getJson(url: string, config: ClientConfig, agent: Agent, log: Logger, signal: AbortSignal): Promise<unknown> {
  const res = await requestWithRetry(url, { method: 'GET', headers: { authorization: `Bearer ${config.key}`, accept: 'application/json' } }, {
    agent, http: config.http, log, signal, what: {},
    failedMessage: 'receiver reconcile request failed',
    unavailableHint: 'nothing was repaired from this point: run reconcile again later',
  });
  if (res.status !== 200) {
    const err = unexpectedStatus(res.status, 'GET', url, res.text, 'url', 'a reconcile request');
    if (res.status !== 404) throw err;
    throw new DeliveryError('RECEIVER_PROTOCOL', err.message, {
      status: 404, hint: `${err.hint ?? ''}; or the receiver is older than the agent and does not offer reconciliation yet: upgrade it`,
    });
  }
  try {
    return JSON.parse(res.text) as unknown;
  } catch {
    throw new DeliveryError('RECEIVER_PROTOCOL', 'receiver answered a reconcile request with a body that is not JSON');
  }
}

/** The reconcile endpoints of the v2 protocol, with the same bounded retries as delivery. */
export function createReconcileClient(config: ClientConfig, log: Logger): ReconcileClient {
  warnIfPlainHttp(config.url, 'url', log);
  const agent = createHttpAgent(config.http, 1);
  const base = `${config.url.replace(/\/+$/, '')}/api/v2/centers/${encodeURIComponent(config.center)}/reconcile`;
  const get = (url: string, signal: AbortSignal): Promise<unknown> => getJson(url, config, agent, log, signal);
  return {
    async days(signal, range) {
      const query = range ? `?from=${encodeURIComponent(range.from)}&to=${encodeURIComponent(range.to)}` : '';
      return parseDays(await get(`${base}/days${query}`, signal));
    },
    async studies(day, signal) {
      return parseStudies(await get(`${base}/studies?day=${encodeURIComponent(day)}`, signal));
    },
    async close() {
      await agent.close();
    },
  };
}
