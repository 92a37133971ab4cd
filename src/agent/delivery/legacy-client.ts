import type { Logger } from '../../shared/logger.js';
import { DECLARED_FIELDS, type DeclaredField, type StudyRecord } from '../../shared/study-record.js';
import type { AgentConfig } from '../config.js';
import { emptyDeliveryResult, type Delivery, type DeliveryResult } from './delivery.js';
import { receiverMessage, unexpectedStatus } from './http-failure.js';
import { createHttpAgent, postWithRetry } from '../http/http-transport.js';
import { warnIfPlainHttp } from './receiver-url.js';
import { runLimited } from '../run-limited.js';

type LegacyConfig = Pick<AgentConfig, 'webservice_url' | 'key' | 'max_in_flight' | 'http'>;

/** The fields the legacy record carries (declared with a legacy name, shared/study-record.ts). */
const LEGACY_FIELDS = DECLARED_FIELDS.filter((f): f is DeclaredField & { legacy: string } => f.legacy !== undefined);

/** The legacy client's "seed v1" record: its field set, a datetime as Python's str(datetime). */
export function toLegacyRecord(r: StudyRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of LEGACY_FIELDS) {
    const v = r[f.name];
    out[f.legacy] = f.kind === 'datetime' ? (typeof v === 'string' && v !== '' ? v.replace('T', ' ') : 'None') : v;
  }
  return out;
}

/**
 * For centres whose central server is still the legacy one: one record per POST with X-Api-Key.
 * Unlike the legacy client, a non-2xx answer is a failure (retried, or the record rejected).
 * Tombstones are skipped: the legacy protocol cannot express a deletion.
 */
export function createLegacyClient(config: LegacyConfig, log: Logger): Delivery {
  warnIfPlainHttp(config.webservice_url, 'webservice_url', log);
  const agent = createHttpAgent(config.http, config.max_in_flight);
  const headers = { 'content-type': 'application/json', 'x-api-key': config.key };

  const postOne = async (record: StudyRecord, signal: AbortSignal): Promise<DeliveryResult> => {
    const result = emptyDeliveryResult();
    if (record.deleted) {
      result.skipped = 1;
      return result;
    }
    const body = Buffer.from(JSON.stringify(toLegacyRecord(record)));
    const res = await postWithRetry(config.webservice_url, headers, body, {
      agent, http: config.http, log, signal, what: { study_pk: record.study_pk }, setting: 'webservice_url',
    });
    if (res.status >= 200 && res.status < 300) {
      result.stored = 1;
    } else if (res.status === 400 || res.status === 413 || res.status === 422) {
      result.rejected.push({ record, reason: `legacy receiver answered HTTP ${res.status}: ${receiverMessage(res.text) ?? 'no message'}` });
    } else {
      throw unexpectedStatus(res.status, 'POST', config.webservice_url, res.text, 'webservice_url', 'a legacy record');
    }
    return result;
  };

  return {
    async send(records, signal) {
      const results = await runLimited(records, config.max_in_flight, (r) => postOne(r, signal));
      const total = emptyDeliveryResult();
      for (const r of results) {
        total.stored += r.stored;
        total.skipped += r.skipped;
        total.rejected.push(...r.rejected);
      }
      return total;
    },
    async close() {
      await agent.close();
    },
  };
}
