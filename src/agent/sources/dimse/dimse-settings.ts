import { readFile } from 'node:fs/promises';
import { ConfigError } from '../../../shared/errors.js';
import type { AgentConfig } from '../../config.js';
import { DimseClient } from './dimse-client.js';
import type { PlanSettings } from './pass-plan.js';
import { localDay } from './study-days.js';

type Dimse = AgentConfig['dimse'];

async function pem(key: string, path: string): Promise<Buffer | undefined> {
  if (path === '') return undefined;
  let text: Buffer;
  try {
    text = await readFile(path);
  } catch (err) {
    throw new ConfigError(`key "dimse.tls.${key}" names ${JSON.stringify(path)}, which cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}): expected a PEM file`);
  }
  if (!text.includes('-----BEGIN ')) throw new ConfigError(`key "dimse.tls.${key}" names ${JSON.stringify(path)}, which is not PEM: expected a file with "-----BEGIN …" blocks`);
  return text;
}

/** The DICOM client of the configuration; its settings are checked here, named by their keys. */
export async function dimseClient(d: Dimse): Promise<DimseClient> {
  if (d.called_aet === '') throw new ConfigError('key "dimse.called_aet" is empty: expected the PACS\'s AE title (INDEXER_DIMSE_CALLED_AET)');
  const t = d.tls;
  if ((t.cert_file === '') !== (t.key_file === '')) throw new ConfigError('keys "dimse.tls.cert_file" and "dimse.tls.key_file" go together: set both or neither');
  if (!t.enabled && (t.ca_file || t.cert_file)) throw new ConfigError('dimse.tls files are set but "dimse.tls.enabled" is false: expected true to use them');
  const tls = t.enabled ? { ca: await pem('ca_file', t.ca_file), cert: await pem('cert_file', t.cert_file), key: await pem('key_file', t.key_file) } : undefined;
  return new DimseClient({
    host: d.host, port: d.port, calledAet: d.called_aet, callingAet: d.calling_aet, tls,
    connectTimeoutMs: d.connect_timeout_ms, queryDeadlineMs: d.query_timeout_ms,
  });
}

export function planSettings(d: Dimse, now = new Date()): PlanSettings {
  // A history starting after today would make the crawl end at once, "done" with nothing read.
  if (d.history_from > localDay(now)) throw new ConfigError(`key "dimse.history_from" has value ${JSON.stringify(d.history_from)}, expected a day on or before today`);
  // The hot days are read on every pass whatever the budget: the budget must hold them.
  if (d.hot_days > d.max_queries_per_pass) {
    throw new ConfigError(`key "dimse.hot_days" has value ${d.hot_days}, expected at most dimse.max_queries_per_pass (${d.max_queries_per_pass}): every pass reads each hot day`);
  }
  return {
    hotDays: d.hot_days, warmDays: d.warm_days, warmEveryMs: d.warm_every_minutes * 60_000, coldEveryMs: d.cold_every_days * 86_400_000,
    historyFrom: d.history_from, maxSpanDays: d.max_span_days,
  };
}
