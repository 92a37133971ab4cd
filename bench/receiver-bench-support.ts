import type { AddressInfo } from 'node:net';
import mysql from 'mysql2/promise';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/receiver/app.js';
import { hashSecret } from '../src/receiver/http/auth.js';
import { createPool, type Pool } from '../src/receiver/store/db.js';
import { migrate } from '../src/receiver/store/migrations.js';
import { createStore, type ReceiverStore } from '../src/receiver/store/receiver-store.js';
import { createLogger } from '../src/shared/logger.js';
import { mysqlOptions, withDatabase } from '../scripts/lib/mysql-url.js';

/** A scratch database on a benchmark server, migrated, with an in-process receiver on a free port. */
export interface BenchReceiver {
  base: string;
  pool: Pool;
  store: ReceiverStore;
  app: FastifyInstance;
  addCenter(code: string): Promise<string>;
  addToken(name: string): Promise<string>;
  close(): Promise<void>;
}

export async function startBenchReceiver(serverUrl: string, name: string, poolSize = 10): Promise<BenchReceiver> {
  const db = `bench_${name}_${process.pid}`;
  const admin = await mysql.createConnection(mysqlOptions(serverUrl));
  await admin.query(`DROP DATABASE IF EXISTS \`${db}\``);
  await admin.query(`CREATE DATABASE \`${db}\` DEFAULT CHARACTER SET utf8mb4`);
  const pool = createPool(withDatabase(serverUrl, db), poolSize);
  await migrate(pool);
  const store = createStore(pool);
  // Measures throughput from one address: the receiver's rate limits would measure themselves.
  const app = buildApp({ store, log: createLogger({ level: 'silent' }), rateLimits: { perAddressPerSecond: 0, authFailuresPerMinute: 0, perPrincipalPerSecond: 0, concurrentReadsPerToken: 0 } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    pool,
    store,
    app,
    async addCenter(code) {
      const key = `bench-key-${code}-0123456789abcdef`;
      await store.access.addCenter(code, `Centre ${code}`, hashSecret(key));
      return key;
    },
    async addToken(tokenName) {
      const token = `bench-token-${tokenName}-0123456789abcdef`;
      await store.access.addToken(tokenName, hashSecret(token));
      return token;
    },
    async close() {
      await app.close();
      await pool.end();
      await admin.query(`DROP DATABASE IF EXISTS \`${db}\``).catch(() => undefined);
      await admin.end().catch(() => undefined);
    },
  };
}

/** p-th percentile (0-100) of a list of numbers, nearest rank. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export function benchServerUrl(): string {
  return process.env.INDEXER_BENCH_MYSQL_URL ?? process.env.INDEXER_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/';
}
