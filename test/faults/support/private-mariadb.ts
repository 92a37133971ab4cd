import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import { privateMariadbArgs } from '../../../scripts/lib/private-mariadb-args.js';
import { freePort } from './receiver-process.js';

function findBinary(names: string[]): string | undefined {
  for (const dir of ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin']) {
    for (const name of names) if (existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Whether this machine can run a private server (mariadbd + mariadb-install-db). */
export function privateMariadbAvailable(): boolean {
  return Boolean(findBinary(['mariadbd', 'mysqld']) && findBinary(['mariadb-install-db', 'mysql_install_db']));
}

/**
 * A throwaway mariadbd of the test's own (temp datadir, free loopback port) that can be stopped
 * — cleanly or by SIGKILL, a crash — and started again on the same port with the same data, to
 * take the PACS database away from an agent mid-pass without touching the shared server.
 */
export class PrivateMariadb {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  private constructor(private readonly dir: string, readonly port: number) {}

  static async create(): Promise<PrivateMariadb> {
    const installDb = findBinary(['mariadb-install-db', 'mysql_install_db'])!;
    const dir = mkdtempSync(join(tmpdir(), 'fault-pacs-db-'));
    const port = await freePort();
    const init = spawnSync(installDb, privateMariadbArgs(dir, port).install, { encoding: 'utf8' });
    if (init.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`mariadb-install-db failed: ${(init.stderr || init.stdout).trim().split('\n').pop()}`);
    }
    const db = new PrivateMariadb(dir, port);
    await db.start();
    return db;
  }

  get url(): string {
    return `mysql://root@127.0.0.1:${this.port}/`;
  }

  async start(): Promise<void> {
    const server = findBinary(['mariadbd', 'mysqld'])!;
    const child = spawn(server, [
      ...privateMariadbArgs(this.dir, this.port).server, '--innodb-buffer-pool-size=64M', '--innodb-flush-log-at-trx-commit=2',
    ], { stdio: 'ignore' });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    for (let i = 0; i < 240; i++) {
      if (child.exitCode !== null) throw new Error(`mariadbd exited early with code ${child.exitCode}`);
      try {
        const conn = await mysql.createConnection(this.url);
        await conn.end();
        return;
      } catch {
        await sleep(250);
      }
    }
    throw new Error('mariadbd did not accept connections within 60 s');
  }

  /** SIGTERM: a clean shutdown; SIGKILL: a crash (InnoDB recovers at the next start). */
  async stop(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    await this.exited;
    this.child = undefined;
  }

  async restart(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    await this.stop(signal);
    await this.start();
  }

  async destroy(): Promise<void> {
    await this.stop('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
