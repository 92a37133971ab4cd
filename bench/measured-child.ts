import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { REPO_ROOT } from '../scripts/demo/processes.js';

/** A finished CLI run as the benchmark sees it: exit, output, wall time and peak memory. */
export interface MeasuredRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** From spawn to exit, ms: includes Node's start-up, as an operator's cron run would. */
  wallMs: number;
  /** The child's VmHWM (peak resident set), MiB; sampled, so a peak shorter than the interval may be missed. */
  peakRssMiB: number;
}

/** VmHWM of a live process in KiB, or 0 once it is gone. Linux only (the benchmark's platform). */
export function readPeakRssKiB(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Samples VmHWM until stopped; VmHWM only grows, so the last sample before exit is the peak. */
export function sampleRss(child: ChildProcess, intervalMs = 50): { stop(): number } {
  let peak = 0;
  const sample = () => {
    if (child.pid !== undefined) peak = Math.max(peak, readPeakRssKiB(child.pid));
  };
  const timer = setInterval(sample, intervalMs);
  // The child's exit arrives after its last stdio chunk; sample once more on every output chunk.
  child.stdout?.on('data', sample);
  child.stderr?.on('data', sample);
  return {
    stop() {
      clearInterval(timer);
      return peak / 1024;
    },
  };
}

/**
 * The Node flags of a CLI's `#!/usr/bin/env -S node …` line: an operator runs the bin, so the
 * benchmark passes the same flags (the agent's heap settings live there).
 */
export function shebangNodeArgs(cli: string): string[] {
  const first = readFileSync(cli, 'utf8').split('\n', 1)[0] ?? '';
  const m = /^#!\/usr\/bin\/env\s+(?:-S\s+)?node\b(.*)$/.exec(first);
  return m ? m[1]!.trim().split(/\s+/).filter(Boolean) : [];
}

/** Starts a CLI of the project (a dist/ entry) the way an operator runs it: with its shebang's flags. */
export function spawnCli(cli: string, args: string[], env: NodeJS.ProcessEnv, nodeArgs: string[] = []): ChildProcess {
  const flags = [...shebangNodeArgs(cli), ...nodeArgs];
  return spawn(process.execPath, [...flags, cli, ...args], { env, cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs a CLI to completion, timing it and sampling its peak RSS. */
export function runMeasured(cli: string, args: string[], env: NodeJS.ProcessEnv, nodeArgs: string[] = []): Promise<MeasuredRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawnCli(cli, args, env, nodeArgs);
    const rss = sampleRss(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', (err) => {
      rss.stop();
      reject(err);
    });
    child.once('close', (code) => {
      resolve({ code, stdout, stderr, wallMs: performance.now() - started, peakRssMiB: rss.stop() });
    });
  });
}

/** Like runMeasured, but a non-zero exit is an error carrying the last lines of stderr. */
export async function runMeasuredOk(cli: string, args: string[], env: NodeJS.ProcessEnv, nodeArgs: string[] = []): Promise<MeasuredRun> {
  const res = await runMeasured(cli, args, env, nodeArgs);
  if (res.code !== 0) {
    throw new Error(`${args.join(' ')} exited with ${res.code}: ${res.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }
  return res;
}

/** The last JSON log line of a pass summary (`… pass finished`). */
export function passSummary(stderr: string): { duration_ms?: number; read?: number; sent?: number; stored?: number } | undefined {
  let found: Record<string, unknown> | undefined;
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{') || !line.includes('pass finished')) continue;
    try {
      found = JSON.parse(line) as Record<string, unknown>;
    } catch {
      // a partial line: ignore
    }
  }
  return found as ReturnType<typeof passSummary>;
}
