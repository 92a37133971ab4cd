import { exitCodeFor, IndexerError } from '../../../shared/errors.js';
import type { CheckLine } from '../source-plugin.js';
import type { OrthancClient } from './orthanc-client.js';
import { readStateFile } from './state-file.js';
import { reconcileNeededLine } from '../source-health.js';

/** What `indexer check` reports about an Orthanc source: /system and /statistics. */
export interface OrthancCheckResult {
  url: string;
  name: string | null;
  version: string;
  api_version: number | null;
  patients: number;
  studies: number;
  series: number;
  instances: number;
  disk_size_mb: number | null;
  last_change: number;
}

interface SystemAnswer {
  Name?: string;
  Version?: string;
  ApiVersion?: number;
}

interface StatisticsAnswer {
  CountPatients?: number;
  CountStudies?: number;
  CountSeries?: number;
  CountInstances?: number;
  TotalDiskSizeMB?: number;
}

/** Throws the client's errors (unreachable, refused credentials) for the caller to report. */
export async function orthancCheck(client: OrthancClient): Promise<OrthancCheckResult> {
  const system = await client.get<SystemAnswer>('/system');
  const stats = await client.get<StatisticsAnswer>('/statistics');
  return {
    url: client.baseUrl,
    name: system.Name ?? null,
    version: system.Version ?? 'unknown',
    api_version: system.ApiVersion ?? null,
    patients: stats.CountPatients ?? 0,
    studies: stats.CountStudies ?? 0,
    series: stats.CountSeries ?? 0,
    instances: stats.CountInstances ?? 0,
    disk_size_mb: stats.TotalDiskSizeMB ?? null,
    last_change: await client.lastChange(),
  };
}

/** Ready-made lines for `indexer check`: Orthanc reachable and its counts, then the checkpoint. */
export async function orthancCheckLines(client: OrthancClient, stateFile: string): Promise<CheckLine[]> {
  const lines: CheckLine[] = [];
  try {
    const r = await orthancCheck(client);
    lines.push({ ok: true, text: `Orthanc ${r.url} reachable (version ${r.version}${r.name ? `, name ${r.name}` : ''})` });
    lines.push({ ok: true, text: `Orthanc holds ${r.patients} patients, ${r.studies} studies, ${r.series} series, ${r.instances} instances; last change ${r.last_change}` });
  } catch (err) {
    const hint = err instanceof IndexerError && err.hint ? ` (${err.hint})` : '';
    const code = exitCodeFor(err);
    lines.push({ ok: false, exit: code === 1 ? 3 : code, text: `Orthanc: ${(err as Error).message}${hint}` });
    return lines;
  }
  try {
    const state = await readStateFile(stateFile);
    lines.push(state.initial.done
      ? { ok: true, text: `state file ${stateFile}: initial load done, changes acknowledged up to ${state.since}` }
      : { ok: true, warn: true, text: `state file ${stateFile}: initial load not done yet: run \`indexer initial\`` });
    const needed = reconcileNeededLine(state.reconcile_needed);
    if (needed) lines.push(needed);
  } catch (err) {
    lines.push({ ok: false, exit: 3, text: `state file: ${(err as Error).message}` });
  }
  return lines;
}
