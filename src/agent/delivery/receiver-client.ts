import { gzipSync } from 'node:zlib';
import { withContentHash } from '../../shared/content-hash.js';
import { DeliveryError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { StudyRecord } from '../../shared/study-record.js';
import type { AgentConfig } from '../config.js';
import { emptyDeliveryResult, mergeDeliveryResults, type Delivery, type DeliveryResult } from './delivery.js';
import { printable, unexpectedStatus } from './http-failure.js';
import { createHttpAgent, postWithRetry } from '../http/http-transport.js';
import { redactUrl, warnIfPlainHttp } from './receiver-url.js';
import { runLimited } from '../run-limited.js';
import { fetchVersionFloor } from './version-floor.js';

type ClientConfig = Pick<AgentConfig, 'url' | 'center' | 'key' | 'batch_size' | 'max_in_flight' | 'http'>;

export function studiesUrl(baseUrl: string, center: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/api/v2/centers/${encodeURIComponent(center)}/studies`;
}

interface BatchAnswer {
  stored: number;
  unchanged: number;
  stale: number;
  rejected: { index: number; reason: string }[];
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * A 200 answer that accounts for every record sent, once: counts that are non-negative integers
 * adding up to the batch, and rejected indexes in range and unique. Anything else acknowledges
 * nothing (RECEIVER_PROTOCOL): a receiver answering `{"stored": 0, …}` to 100 records must not
 * have them marked done and their queue rows deleted. A rejected entry's study_iuid, when given
 * (`iuids`: the batch's, in order), must be that of the record at its index.
 */
export function parseAnswer(text: string, sent: number, url: string, iuids?: readonly string[]): BatchAnswer {
  const offContract = (why: string) => new DeliveryError('RECEIVER_PROTOCOL', `receiver ${redactUrl(url)} answered 200 to a batch of ${sent} records ${why}: nothing acknowledged`, {
    hint: 'check url: it must be the receiver\'s base URL; nothing is lost, the next run re-sends the batch',
  });
  let v: Partial<Record<keyof BatchAnswer, unknown>>;
  try {
    v = JSON.parse(text) as typeof v;
  } catch {
    throw offContract('with a body that is not JSON');
  }
  if (typeof v !== 'object' || v === null || !isCount(v.stored) || !isCount(v.unchanged ?? 0) || !isCount(v.stale ?? 0) || !Array.isArray(v.rejected ?? [])) {
    throw offContract('without non-negative integer counts {stored, unchanged, stale} and a rejected list');
  }
  const seen = new Set<number>();
  const rejected: BatchAnswer['rejected'] = [];
  for (const r of (v.rejected ?? []) as { index?: unknown; reason?: unknown; study_iuid?: unknown }[]) {
    const index = r?.index;
    if (!isCount(index) || index >= sent || seen.has(index)) throw offContract('with a rejected entry whose index is out of range or repeated');
    // An entry naming another study than the one at its index: which record was refused is unknown.
    if (iuids && r.study_iuid !== undefined && r.study_iuid !== null && r.study_iuid !== iuids[index]) {
      throw offContract(`with a rejected entry whose study_iuid is not that of record ${index}`);
    }
    seen.add(index);
    rejected.push({ index, reason: printable(typeof r.reason === 'string' ? r.reason : '') ?? 'rejected' });
  }
  const answer = { stored: v.stored, unchanged: (v.unchanged ?? 0) as number, stale: (v.stale ?? 0) as number, rejected };
  const total = answer.stored + answer.unchanged + answer.stale + rejected.length;
  if (total !== sent) throw offContract(`whose counts add up to ${total}`);
  return answer;
}

/** The v2 protocol: gzip JSON batches to {url}/api/v2/centers/{center}/studies, a bounded number in flight. */
export function createReceiverClient(config: ClientConfig, log: Logger): Delivery {
  warnIfPlainHttp(config.url, 'url', log);
  const agent = createHttpAgent(config.http, config.max_in_flight);
  const url = studiesUrl(config.url, config.center);
  const headers = {
    'content-type': 'application/json',
    'content-encoding': 'gzip',
    authorization: `Bearer ${config.key}`,
  };
  let batchNo = 0;

  const postBatch = async (records: readonly StudyRecord[], signal: AbortSignal): Promise<DeliveryResult> => {
    const batch = ++batchNo;
    const body = gzipSync(JSON.stringify({ records: records.map(withContentHash) }), { level: 1 });
    const res = await postWithRetry(url, headers, body, { agent, http: config.http, log, signal, what: { batch, records: records.length } });
    if (res.status === 413 && records.length > 1) {
      // Too large for the receiver's limit: halve and retry, each half acknowledged on its own.
      const mid = Math.ceil(records.length / 2);
      const first = await postBatch(records.slice(0, mid), signal);
      return mergeDeliveryResults(first, await postBatch(records.slice(mid), signal));
    }
    if (res.status === 413) return { ...emptyDeliveryResult(), rejected: [{ record: records[0]!, reason: 'record too large for the receiver (HTTP 413)' }] };
    if (res.status !== 200) throw unexpectedStatus(res.status, 'POST', url, res.text, 'url', 'a batch');
    const answer = parseAnswer(res.text, records.length, url, records.map((r) => r.study_iuid));
    const rejected = answer.rejected.map((r) => ({ record: records[r.index]!, reason: r.reason }));
    return { stored: answer.stored, unchanged: answer.unchanged, stale: answer.stale, rejected, skipped: 0 };
  };

  return {
    async send(records, signal) {
      const batches: StudyRecord[][] = [];
      for (let i = 0; i < records.length; i += config.batch_size) batches.push(records.slice(i, i + config.batch_size));
      const results = await runLimited(batches, config.max_in_flight, (b) => postBatch(b, signal));
      return results.reduce(mergeDeliveryResults, emptyDeliveryResult());
    },
    versionFloor: (signal) => fetchVersionFloor(config, agent, log, signal),
    async close() {
      await agent.close();
    },
  };
}

/** Posts an empty batch once: 200 means the receiver is up and accepts this centre's key. */
export async function probeReceiver(config: ClientConfig, log: Logger, signal: AbortSignal): Promise<void> {
  const http = { ...config.http, retries: 0 };
  const agent = createHttpAgent(http, 1);
  try {
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${config.key}` };
    const url = studiesUrl(config.url, config.center);
    const res = await postWithRetry(url, headers, Buffer.from('{"records":[]}'), { agent, http, log, signal, what: { probe: true } });
    if (res.status !== 200) throw unexpectedStatus(res.status, 'POST', url, res.text, 'url', 'an empty batch');
  } finally {
    await agent.close();
  }
}
