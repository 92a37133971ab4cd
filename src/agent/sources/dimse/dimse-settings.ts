import { readFile } from 'node:fs/promises';
import { ConfigError } from '../../../shared/errors.js';
import type { AgentConfig } from '../../config.js';
import { DimseClient } from './dimse-client.js';
import type { PlanSettings } from './pass-plan.js';

type Dimse = AgentConfig['dimse'];

async function pem(key: string, path: string): Promise<Buffer | undefined> {
  if (path === '') return undefined;
  try {
    return await readFile(path);
  } catch (err) {
    throw new ConfigError(`key "dimse.tls.${key}" names ${JSON.stringify(path)}, which cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}): expected a PEM file`);
  }
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

export function planSettings(d: Dimse): PlanSettings {
  return {
    hotDays: d.hot_days, warmDays: d.warm_days, warmEveryMs: d.warm_every_minutes * 60_000, coldEveryMs: d.cold_every_days * 86_400_000,
    historyFrom: d.history_from, maxSpanDays: d.max_span_days,
  };
}
