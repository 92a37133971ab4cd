import { gzipSync } from 'node:zlib';
import { withContentHash } from '../../shared/content-hash.js';
import { DeliveryError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { StudyRecord } from '../../shared/study-record.js';
import type { AgentConfig } from '../config.js';
import { emptyDeliveryResult, mergeDeliveryResults, type Delivery, type DeliveryResult } from './delivery.js';
import { unexpectedStatus } from './http-failure.js';
import { createHttpAgent, postWithRetry } from '../http/http-transport.js';
import { warnIfPlainHttp } from './receiver-url.js';
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
  rejected: { index: number; study_iuid?: string; reason?: string }[];
}

function parseAnswer(text: string): BatchAnswer {
  let v: Partial<BatchAnswer>;
  try {
    v = JSON.parse(text) as Partial<BatchAnswer>;
  } catch {
    throw new DeliveryError('RECEIVER_PROTOCOL', 'receiver answered 200 with a body that is not JSON');
  }
  if (typeof v !== 'object' || v === null || typeof v.stored !== 'number') {
    throw new DeliveryError('RECEIVER_PROTOCOL', 'receiver answered 200 without {stored, unchanged, stale, rejected}');
  }
  return { stored: v.stored, unchanged: v.unchanged ?? 0, stale: v.stale ?? 0, rejected: Array.isArray(v.rejected) ? v.rejected : [] };
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
    const answer = parseAnswer(res.text);
    const rejected = answer.rejected
      .filter((r) => Number.isInteger(r.index) && records[r.index] !== undefined)
      .map((r) => ({ record: records[r.index]!, reason: String(r.reason ?? 'rejected') }));
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
