import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { freePort } from './free-port.js';
import { privateMariadbArgs } from './private-mariadb-args.js';

/** A MySQL-compatible server for the demo and the benchmark, and how to get rid of it. */
export interface ProvidedServer {
  /** mysql://user:pass@host:port/ (no database). */
  url: string;
  /** How it was obtained, for the narration. */
  kind: 'env' | 'testcontainers' | 'throwaway-mariadbd';
  stop(): Promise<void>;
}

export class NoServerError extends Error {}

const HOW_TO =
  'Set INDEXER_DEMO_MYSQL_URL=mysql://root@127.0.0.1:3306/ (a user that may create databases), ' +
  'or start a Docker engine, or install MariaDB (Debian: apt-get install -y mariadb-server).';

async function waitForServer(url: string, child: ChildProcess, seconds: number): Promise<void> {
  for (let i = 0; i < seconds * 4; i += 1) {
    if (child.exitCode !== null) throw new NoServerError(`mariadbd exited early with code ${child.exitCode}`);
    try {
      const conn = await mysql.createConnection(url);
      await conn.end();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new NoServerError(`mariadbd did not accept connections within ${seconds} s`);
}

function findBinary(names: string[]): string | undefined {
  for (const dir of ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin']) {
    for (const name of names) if (existsSync(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

/** A private mariadbd in a temporary folder on a free loopback port, removed by stop(). */
async function startThrowawayMariadb(): Promise<ProvidedServer | undefined> {
  const server = findBinary(['mariadbd', 'mysqld']);
  const installDb = findBinary(['mariadb-install-db', 'mysql_install_db']);
  if (!server || !installDb) return undefined;
  const dir = mkdtempSync(path.join(tmpdir(), 'pacs-indexer-db-'));
  const port = await freePort();
  const args = privateMariadbArgs(dir, port);
  const init = spawnSync(installDb, args.install, { encoding: 'utf8' });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new NoServerError(`mariadb-install-db failed: ${(init.stderr || init.stdout).trim().split('\n').pop()}`);
  }
  const child = spawn(server, [...args.server, '--innodb-buffer-pool-size=256M'], { stdio: 'ignore' });
  const url = `mysql://root@127.0.0.1:${port}/`;
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForServer(url, child, 60);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, kind: 'throwaway-mariadbd', stop };
}

function dockerLikelyReachable(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.DOCKER_HOST) || existsSync('/var/run/docker.sock');
}

/**
 * The server, in order of preference: the URL in `envVar`; testcontainers' MySQL when a Docker
 * engine exists; a throwaway mariadbd; else NoServerError saying how to provide one.
 */
export async function provideMysqlServer(env: NodeJS.ProcessEnv, envVar = 'INDEXER_DEMO_MYSQL_URL'): Promise<ProvidedServer> {
  const fromEnv = env[envVar];
  if (fromEnv) return { url: fromEnv, kind: 'env', stop: async () => undefined };
  if (dockerLikelyReachable(env)) {
    try {
      const { MySqlContainer } = await import('@testcontainers/mysql');
      const c = await new MySqlContainer('mysql:8.0').withRootPassword('demo').start();
      return { url: `mysql://root:demo@${c.getHost()}:${c.getPort()}/`, kind: 'testcontainers', stop: async () => void (await c.stop()) };
    } catch {
      // No usable engine after all: fall through to a local mariadbd.
    }
  }
  const local = await startThrowawayMariadb();
  if (local) return local;
  throw new NoServerError(`No MySQL-compatible server available. ${HOW_TO}`);
}
