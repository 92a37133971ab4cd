import type { ChildProcess } from 'node:child_process';
import { spawnCli, type CliResult } from '../../agent/support/agent-harness.js';

/**
 * Every agent process of a fault-suite file goes through here, so that every line it wrote
 * (stdout and stderr) can be searched for patient data at the end, and the file's figures counted.
 */
export class FaultLedger {
  readonly lines: string[] = [];
  readonly counts = {
    cases: 0, agentRuns: 0, kills: 0, killsMidPass: 0, receiverRestarts: 0, pacsRestarts: 0,
    connectionKills: 0, proxyFaults: 0, recordsCompared: 0, recordsLost: 0,
  };

  constructor(readonly file: string) {}

  /** Adds the output of a process (agent or receiver) to the audited lines. */
  collect(text: string): void {
    for (const line of text.split('\n')) if (line.trim()) this.lines.push(line);
  }

  spawn(args: string[], cwd: string, env: Record<string, string> = {}): { child: ChildProcess; done: Promise<CliResult> } {
    this.counts.agentRuns += 1;
    const run = spawnCli(args, cwd, env);
    return {
      child: run.child,
      done: run.done.then((r) => {
        this.collect(r.stdout);
        this.collect(r.stderr);
        return r;
      }),
    };
  }

  run(args: string[], cwd: string, env: Record<string, string> = {}): Promise<CliResult> {
    return this.spawn(args, cwd, env).done;
  }

  /** One line of figures for docs/reliability.md, printed at the end of the file. */
  summary(extra: Record<string, unknown> = {}): string {
    return `FAULT SUITE SUMMARY ${JSON.stringify({ file: this.file, ...this.counts, logLinesAudited: this.lines.length, ...extra })}`;
  }
}

/** The pass's outcome in one word, for assertion messages (never the output itself: it is audited, not echoed). */
export function describeRun(r: CliResult): string {
  return `exit ${r.code ?? 'none'} signal ${r.signal ?? 'none'}; stderr tail: ${r.stderr.split('\n').filter(Boolean).slice(-(Number(process.env.FAULT_TAIL) || 3)).join(' | ').slice(0, Number(process.env.FAULT_TAIL) ? 8000 : 600)}`;
}
