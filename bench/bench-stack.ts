import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { provideMysqlServer, type ProvidedServer } from '../scripts/lib/mysql-provider.js';
import {
  AGENT_CLI, RECEIVER_CLI, REPO_ROOT, lastLine, runNodeOk, stopChild, waitForHttp,
} from '../scripts/demo/processes.js';
import { freePort } from '../scripts/lib/free-port.js';
import { withDatabase } from '../scripts/lib/mysql-url.js';
import { seedCentre } from '../scripts/seed/run.js';

/**
 * Everything the benchmark runs against: one MySQL-compatible server (a private mariadbd unless
 * INDEXER_BENCH_MYSQL_URL is set), the central database, the real `indexer-receiver serve` as a
 * child process, and per-centre pacsdb databases. close() removes all of it.
 */
export interface BenchStack {
  server: ProvidedServer;
  admin: mysql.Connection;
  /** The receiver's base URL. */
  base: string;
  readToken: string;
  suffix: string;
  /** Receiver log (JSON lines), kept in a temporary folder for a failed run's post-mortem. */
  receiverLog: string;
  addCentre(code: string): Promise<string>;
  /** A database to drop on close(). */
  registerDatabase(db: string): void;
  close(): Promise<void>;
}

export interface Centre {
  code: string;
  db: string;
  key: string;
  studies: number;
}

/** A private server is ours to size: a bigger buffer pool keeps 1M studies in memory (dynamic in MariaDB ≥ 10.2). */
async function tuneOwnServer(admin: mysql.Connection, full: boolean): Promise<void> {
  await admin.query(`SET GLOBAL innodb_buffer_pool_size = ${full ? 2048 : 768} * 1024 * 1024`).catch(() => undefined);
  await admin.query('SET GLOBAL max_connections = 500').catch(() => undefined);
}

/**
 * The receiver's request limits, off unless the caller's environment sets them: the figures
 * measure capacity (the legacy client's one POST per study, the latency poll), not the limiter.
 */
const UNLIMITED = { RECEIVER_RATE_LIMIT: '0', RECEIVER_ADDRESS_RATE_LIMIT: '0', RECEIVER_MAX_CONCURRENT_READS: '0' };

/** Another receiver build may be measured (e.g. the last release): INDEXER_BENCH_RECEIVER_CLI=path/to/main.js. */
function receiverCli(env: NodeJS.ProcessEnv): string {
  return env.INDEXER_BENCH_RECEIVER_CLI || RECEIVER_CLI;
}

function startReceiver(env: NodeJS.ProcessEnv, logFile: string): ChildProcess {
  const fd = openSync(logFile, 'a');
  try {
    return spawn(process.execPath, [receiverCli(env), 'serve'], { env, cwd: REPO_ROOT, stdio: ['ignore', 'ignore', fd] });
  } finally {
    closeSync(fd); // the child holds its own copy
  }
}

export async function openBenchStack(opts: { full: boolean; env: NodeJS.ProcessEnv }): Promise<BenchStack> {
  const server = await provideMysqlServer(opts.env, 'INDEXER_BENCH_MYSQL_URL');
  const databases: string[] = [];
  let receiver: ChildProcess | undefined;
  const tmp = mkdtempSync(path.join(tmpdir(), 'pacs-indexer-bench-'));
  const admin = await mysql.createConnection({ uri: server.url, charset: 'utf8mb4' });
  const close = async () => {
    await stopChild(receiver);
    for (const db of databases) await admin.query(`DROP DATABASE IF EXISTS \`${db}\``).catch(() => undefined);
    await admin.end().catch(() => undefined);
    await server.stop();
    rmSync(tmp, { recursive: true, force: true });
  };
  try {
    if (server.kind === 'throwaway-mariadbd') await tuneOwnServer(admin, opts.full);
    const suffix = randomBytes(3).toString('hex');
    const central = `bench_central_${suffix}`;
    await admin.query(`CREATE DATABASE \`${central}\` DEFAULT CHARACTER SET utf8mb4`);
    databases.push(central);
    const port = await freePort();
    const renv: NodeJS.ProcessEnv = {
      ...UNLIMITED, ...opts.env, RECEIVER_DATABASE_URL: withDatabase(server.url, central), RECEIVER_HOST: '127.0.0.1', RECEIVER_PORT: String(port),
    };
    await runNodeOk(receiverCli(renv), ['migrate'], renv);
    const readToken = lastLine((await runNodeOk(receiverCli(renv), ['tokens', 'add', 'bench'], renv)).stdout);
    const receiverLog = path.join(tmp, 'receiver.log');
    receiver = startReceiver(renv, receiverLog);
    const base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/readyz`, receiver, 30);
    return {
      server, admin, base, readToken, suffix, receiverLog, close,
      registerDatabase: (db) => void databases.push(db),
      addCentre: async (code) => lastLine((await runNodeOk(receiverCli(renv), ['centers', 'add', code, '--name', `Bench ${code}`], renv)).stdout),
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Environment of the agent CLI for one centre (JSON logs, so the run summary can be parsed). */
export function agentEnv(stack: BenchStack, c: Centre, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const u = new URL(stack.server.url);
  return {
    ...process.env,
    INDEXER_DB_HOST: u.hostname, INDEXER_DB_PORT: u.port || '3306',
    INDEXER_DB_USER: decodeURIComponent(u.username || 'root'), INDEXER_DB_PASSWORD: decodeURIComponent(u.password),
    INDEXER_DB_NAME: c.db, INDEXER_URL: stack.base, INDEXER_KEY: c.key, INDEXER_CENTER: c.code,
    INDEXER_LOG_FORMAT: 'json', ...extra,
  };
}

/** A dcm4chee 2.x pacsdb with `studies` realistic studies (no instance rows: counts only), capture installed. */
export async function createCentre(stack: BenchStack, code: string, studies: number): Promise<Centre> {
  const db = `bench_pacsdb_${code.toLowerCase()}_${stack.suffix}`;
  await stack.admin.query(`CREATE DATABASE \`${db}\` DEFAULT CHARACTER SET latin1`);
  stack.registerDatabase(db);
  await seedCentre({
    db: { uri: withDatabase(stack.server.url, db), charset: 'utf8mb4' }, center: code, studies,
    seed: `bench-${code}`, createSchema: true, instances: false,
  });
  const key = await stack.addCentre(code);
  const centre = { code, db, key, studies };
  await runNodeOk(AGENT_CLI, ['install'], agentEnv(stack, centre));
  return centre;
}
