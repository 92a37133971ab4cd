import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot } from '../seed/schema.js';

/** The repository root, from dist/scripts/demo/ (built) or scripts/demo/ (sources). */
export const REPO_ROOT = repoRoot(path.dirname(fileURLToPath(import.meta.url)));
export const AGENT_CLI = path.join(REPO_ROOT, 'dist/src/agent/main.js');
export const RECEIVER_CLI = path.join(REPO_ROOT, 'dist/src/receiver/main.js');

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a CLI of the project to completion, as an operator would; output is captured. */
export function runNode(cli: string, args: string[], env: NodeJS.ProcessEnv, cwd = REPO_ROOT): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Like runNode, but a non-zero exit is an error carrying the command's own message. */
export async function runNodeOk(cli: string, args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  const res = await runNode(cli, args, env);
  if (res.code !== 0) {
    const name = path.basename(path.dirname(path.dirname(cli))) === 'receiver' ? 'indexer-receiver' : 'indexer';
    throw new Error(`${name} ${args.join(' ')} exited with ${res.code}: ${res.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }
  return res;
}

/** A long-running CLI (the receiver's `serve`), stopped with SIGTERM. */
export function startNode(cli: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, [cli, ...args], { env, cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
}

export async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** Polls a URL until it answers 200, or the child dies, or the time is up. */
export async function waitForHttp(url: string, child: ChildProcess, seconds: number): Promise<void> {
  for (let i = 0; i < seconds * 10; i += 1) {
    if (child.exitCode !== null) throw new Error(`the receiver exited with code ${child.exitCode} while starting`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer within ${seconds} s`);
}

/** The last line of stdout: where `centers add` and `tokens add` print the secret. */
export function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return (lines[lines.length - 1] ?? '').trim();
}

/** The agent's run summary (a JSON log line with a `summary` or read/sent fields), if any. */
export function runSummary(stderr: string): Record<string, unknown> | undefined {
  let found: Record<string, unknown> | undefined;
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const obj = JSON.parse(line) as Record<string, unknown>;
      if (typeof obj.sent === 'number' || typeof obj.read === 'number') found = obj;
    } catch {
      // not JSON
    }
  }
  return found;
}
