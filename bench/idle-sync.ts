import { AGENT_CLI } from '../scripts/demo/processes.js';
import { agentEnv, type BenchStack, type Centre } from './bench-stack.js';
import { passSummary, runMeasuredOk } from './measured-child.js';
import { median } from './stats.js';

export interface IdleSyncResult {
  runs: number;
  /** The pass itself (run summary duration_ms), median of the runs. */
  passMs: number;
  /** The whole `indexer sync` process, spawn to exit, median: Node start-up, config, connect, lock. */
  processMs: number;
  peakRssMiB: number;
}

/** Figure 7: `indexer sync` with nothing queued, as cron would run it every few minutes. */
export async function measureIdleSync(stack: BenchStack, centre: Centre, runs: number): Promise<IdleSyncResult> {
  const [[queued]] = await stack.admin.query<import('mysql2/promise').RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${centre.db}\`.study_service`);
  // A leftover backlog (e.g. from the latency figure) is drained first: the figure is the idle cost.
  if (Number(queued?.n ?? 0) > 0) await runMeasuredOk(AGENT_CLI, ['sync'], agentEnv(stack, centre));
  const pass: number[] = [];
  const wall: number[] = [];
  let peak = 0;
  for (let i = 0; i < runs; i += 1) {
    const run = await runMeasuredOk(AGENT_CLI, ['sync'], agentEnv(stack, centre));
    const summary = passSummary(run.stderr);
    if (!summary || summary.read !== 0) throw new Error(`idle sync read ${String(summary?.read)} rows: the queue was not idle`);
    pass.push(summary.duration_ms ?? Number.NaN);
    wall.push(run.wallMs);
    peak = Math.max(peak, run.peakRssMiB);
  }
  return { runs, passMs: median(pass), processMs: median(wall), peakRssMiB: peak };
}
