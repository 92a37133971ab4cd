import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../scripts/lib/free-port.js';
import { createTestDatabase, type TestDatabase } from '../helpers/mysql.js';

export const RECEIVER_MAIN = 'dist/src/receiver/main.js';

/** The environment of a receiver child: nothing inherited from the developer's RECEIVER_/INDEXER_ variables. */
export function receiverEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('RECEIVER_') && !k.startsWith('INDEXER_')) env[k] = v;
  return { ...env, RECEIVER_LOG_LEVEL: 'warn', ...extra };
}

/** Runs an `indexer-receiver` command to completion. */
export function receiverCommand(args: string[], env: Record<string, string>) {
  const r = spawnSync(process.execPath, [RECEIVER_MAIN, ...args], { env: receiverEnv(env), encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The built receiver as a child process (`indexer-receiver serve`), so that a crash is observed as
 * an exit, and its memory is that of its own process (VmRSS).
 */
export class LiveReceiver {
  private output = '';
  exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;

  private constructor(readonly db: TestDatabase, readonly port: number, readonly child: ChildProcess, readonly env: Record<string, string>) {
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.on('exit', (code, signal) => (this.exit = { code, signal }));
  }

  /** A migrated database with centre 001 (`key`) and a read token (`token`), then `serve` with `env`. */
  static async start(prefix: string, env: Record<string, string> = {}): Promise<LiveReceiver & { key: string; token: string }> {
    if (!existsSync(RECEIVER_MAIN)) throw new Error(`${RECEIVER_MAIN} is missing: run \`npx tsc -p tsconfig.json\` first`);
    const db = await createTestDatabase(prefix, 'utf8mb4');
    const port = await freePort();
    const base = { RECEIVER_DATABASE_URL: db.url, RECEIVER_HOST: '127.0.0.1', RECEIVER_PORT: String(port), ...env };
    const run = (args: string[]) => {
      const r = receiverCommand(args, base);
      if (r.code !== 0) throw new Error(`indexer-receiver ${args.join(' ')} exited ${r.code}: ${r.stderr.slice(0, 300)}`);
      return r.stdout.trimEnd().split('\n').at(-1)!;
    };
    run(['migrate']);
    const key = run(['centers', 'add', '001', '--key', 'hostile-test-key-001-0123456789']);
    const token = run(['tokens', 'add', 'hostile-reader', '--token', 'hostile-test-token-0123456789']);
    const child = spawn(process.execPath, [RECEIVER_MAIN, 'serve'], { env: receiverEnv(base), stdio: ['ignore', 'pipe', 'pipe'] });
    const rx = Object.assign(new LiveReceiver(db, port, child, base), { key, token });
    await rx.waitHealthy();
    return rx;
  }

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get log(): string {
    return this.output;
  }

  /** Resident memory of the receiver process, in MiB. */
  rssMiB(): number {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  }

  /** Alive (not exited) and answering /healthz. */
  async healthy(): Promise<boolean> {
    if (this.exit) return false;
    try {
      return (await fetch(`${this.base}/healthz`, { signal: AbortSignal.timeout(5000) })).status === 200;
    } catch {
      return false;
    }
  }

  private async waitHealthy(): Promise<void> {
    for (let i = 0; i < 300; i++) {
      if (this.exit) throw new Error(`indexer-receiver serve exited ${JSON.stringify(this.exit)}: ${this.output.slice(0, 500)}`);
      if (await this.healthy()) return;
      await sleep(50);
    }
    throw new Error('indexer-receiver serve did not come up within 15 s');
  }

  async stop(): Promise<void> {
    if (!this.exit) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000)]);
      if (!this.exit) this.child.kill('SIGKILL');
    }
    await this.db.drop();
  }
}
