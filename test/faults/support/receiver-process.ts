import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from '../../agent/support/agent-harness.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/mysql.js';

const RECEIVER_CLI = join(REPO_ROOT, 'dist/src/receiver/main.js');

import { freePort } from '../../../scripts/lib/free-port.js';

export { freePort };

/**
 * The built receiver as a child process (`indexer-receiver serve`) on a fixed loopback port, so
 * it can be killed and started again where the agent expects it. Its output goes to `sink`.
 */
export class ReceiverProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  private constructor(readonly db: TestDatabase, readonly port: number, private readonly sink: (text: string) => void) {}

  static async create(prefix: string, sink: (text: string) => void): Promise<ReceiverProcess> {
    const db = await createTestDatabase(prefix, 'utf8mb4');
    return new ReceiverProcess(db, await freePort(), sink);
  }

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('RECEIVER_') && !k.startsWith('INDEXER_')) env[k] = v;
    return { ...env, RECEIVER_DATABASE_URL: this.db.url, RECEIVER_PORT: String(this.port), RECEIVER_HOST: '127.0.0.1', ...extra };
  }

  /** Runs an admin command (migrate, centers add, …) to completion; returns its stdout. */
  async admin(args: string[]): Promise<string> {
    const child = spawn(process.execPath, [RECEIVER_CLI, ...args], { env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    this.sink(err);
    if (code !== 0) throw new Error(`indexer-receiver ${args[0]} exited ${code}: ${err.slice(0, 300)}`);
    return out;
  }

  /** Starts `serve` and waits until it answers /healthz (bounded). */
  async start(): Promise<void> {
    const child = spawn(process.execPath, [RECEIVER_CLI, 'serve'], { env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    this.exited = new Promise((resolve) => child.on('close', () => {
      this.sink(out);
      resolve();
    }));
    for (let i = 0; i < 300; i++) {
      if (child.exitCode !== null) throw new Error(`indexer-receiver serve exited ${child.exitCode}`);
      try {
        const res = await fetch(`${this.base}/healthz`);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await sleep(50);
    }
    throw new Error('indexer-receiver serve did not come up within 15 s');
  }

  /** Stops it: SIGKILL (a crash) or SIGTERM (a clean shutdown). */
  async stop(signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    await this.exited;
    this.child = undefined;
  }

  async close(): Promise<void> {
    await this.stop('SIGTERM');
    await this.db.drop();
  }
}
