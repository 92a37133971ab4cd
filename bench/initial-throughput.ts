import { AGENT_CLI } from '../scripts/demo/processes.js';
import { agentEnv, type BenchStack, type Centre } from './bench-stack.js';
import { passSummary, runMeasuredOk } from './measured-child.js';

export interface InitialLoadResult {
  studies: number;
  /** Stored at the receiver for this centre after the run (checked through the API). */
  storedAtReceiver: number;
  /** Whole `indexer initial` process, spawn to exit (Node start-up included). */
  wallSeconds: number;
  /** The pass itself, from the agent's run summary. */
  passSeconds: number;
  studiesPerSecond: number;
  peakRssMiB: number;
}

/** Live studies the receiver holds for a centre (GET /api/v2/centers). */
export async function storedStudies(stack: BenchStack, code: string): Promise<number> {
  const res = await fetch(`${stack.base}/api/v2/centers`, { headers: { authorization: `Bearer ${stack.readToken}` } });
  if (!res.ok) throw new Error(`GET /api/v2/centers answered ${res.status}`);
  const body = (await res.json()) as { items: { code: string; studies: number }[] };
  return body.items.find((c) => c.code === code)?.studies ?? 0;
}

/**
 * Figure 1: the real `indexer initial` against a seeded pacsdb and the real receiver, end to end
 * (pacsdb → agent → HTTP → central DB). The rate is studies over the process's wall time.
 */
export async function measureInitialLoad(stack: BenchStack, centre: Centre, extraEnv: NodeJS.ProcessEnv = {}): Promise<InitialLoadResult> {
  const run = await runMeasuredOk(AGENT_CLI, ['initial', '--restart'], agentEnv(stack, centre, extraEnv));
  const summary = passSummary(run.stderr);
  const stored = await storedStudies(stack, centre.code);
  if (stored !== centre.studies) throw new Error(`initial load stored ${stored} of ${centre.studies} studies`);
  return {
    studies: centre.studies,
    storedAtReceiver: stored,
    wallSeconds: run.wallMs / 1000,
    passSeconds: (summary?.duration_ms ?? Number.NaN) / 1000,
    studiesPerSecond: centre.studies / (run.wallMs / 1000),
    peakRssMiB: run.peakRssMiB,
  };
}
