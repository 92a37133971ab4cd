import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { createLogger } from '../../src/shared/logger.js';
import { buildApp, type AppOptions } from '../../src/receiver/app.js';
import { hashSecret } from '../../src/receiver/http/auth.js';
import { createPool, type Pool } from '../../src/receiver/store/db.js';
import { migrate } from '../../src/receiver/store/migrations.js';
import { createStore, type ReceiverStore } from '../../src/receiver/store/receiver-store.js';
import { createTestDatabase, type TestDatabase } from './mysql.js';

/** A migrated test database, a receiver on an ephemeral port over real HTTP, and its captured log. */
export interface Receiver {
  db: TestDatabase;
  pool: Pool;
  store: ReceiverStore;
  base: string;
  logLines: string[];
  close(): Promise<void>;
}

/** `queryTimeLimitMs`: the store's search time budget (RECEIVER_QUERY_TIME_LIMIT_MS), default 5 s. */
export async function startReceiver(prefix: string, options: Partial<AppOptions> & { queryTimeLimitMs?: number } = {}): Promise<Receiver> {
  const db = await createTestDatabase(prefix, 'utf8mb4');
  const pool = createPool(db.url, 8);
  await migrate(pool);
  const { queryTimeLimitMs, ...appOptions } = options;
  const store = createStore(pool, queryTimeLimitMs === undefined ? {} : { queryTimeLimitMs });
  const logLines: string[] = [];
  const log = createLogger({ level: 'debug', destination: { write: (line: string) => void logLines.push(line) } });
  // Rate limits off unless a test asks for them: suites send thousands of requests from one address.
  const rateLimits = { perAddressPerSecond: 0, authFailuresPerMinute: 0, perPrincipalPerSecond: 0, concurrentReadsPerToken: 0, ...appOptions.rateLimits };
  const app = buildApp({ store, log, ...appOptions, rateLimits });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return {
    db,
    pool,
    store,
    base: `http://127.0.0.1:${port}`,
    logLines,
    async close() {
      await app.close();
      await pool.end();
      await db.drop();
    },
  };
}

export async function addCenter(store: ReceiverStore, code: string, key = `key-${code}-0123456789abcdef`): Promise<string> {
  await store.access.addCenter(code, `Centre ${code}`, hashSecret(key));
  return key;
}

export async function addToken(store: ReceiverStore, name: string, token = `token-${name}-0123456789abcdef`): Promise<string> {
  await store.access.addToken(name, hashSecret(token));
  return token;
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- response bodies are asserted field by field
  text: string;
}

export async function http(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  options: { headers?: Record<string, string>; body?: string | Buffer; json?: unknown } = {},
): Promise<HttpResult> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  let body = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['content-type'] ??= 'application/json';
  }
  const res = await request(`${base}${path}`, { method, headers, body });
  const text = await res.body.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, json, text };
}

export const bearer = (secret: string): Record<string, string> => ({ authorization: `Bearer ${secret}` });

/** A minimal valid v2 record. */
export function record(iuid: string, seq: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    study_iuid: iuid,
    source_seq: seq,
    study_pk: 1,
    patient_pk: 1,
    patient_id: null,
    patient_name: null,
    study_datetime: '2020-01-01T10:00:00',
    study_modality: 'CT',
    modalities: ['CT'],
    study_series: 1,
    study_instances: 10,
    deleted: false,
    ...extra,
  };
}
