import { readFileSync } from 'node:fs';
import { ConfigError } from '../shared/errors.js';

/** Everything the receiver reads from its environment, validated once at start. */
export interface ReceiverConfig {
  databaseUrl: string;
  host: string;
  port: number;
  limits: ReceiverLimits;
  tls: { cert: Buffer; key: Buffer } | undefined;
  /** Requests per second allowed per key or token (burst = 2 s worth); 0 disables the limit. */
  rateLimitPerSecond: number;
  logLevel: string;
  dbPoolSize: number;
}

export interface ReceiverLimits {
  /** Bytes accepted on the wire (compressed or not). */
  bodyBytes: number;
  /** Bytes accepted after gzip decompression. */
  decompressedBytes: number;
  /** Records accepted in one v2 batch. */
  recordsPerBatch: number;
}

export const DEFAULT_LIMITS: ReceiverLimits = {
  bodyBytes: 16 * 1024 * 1024,
  decompressedBytes: 64 * 1024 * 1024,
  recordsPerBatch: 5000,
};

type Env = Record<string, string | undefined>;

function fail(name: string, value: string, expected: string): never {
  throw new ConfigError(`${name}=${JSON.stringify(value)} is invalid: expected ${expected}`);
}

function intVar(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) fail(name, raw, `an integer from ${min} to ${max}`);
  const n = Number(raw.trim());
  if (n < min || n > max) fail(name, raw, `an integer from ${min} to ${max}`);
  return n;
}

/** Validates a mysql:// URL (credentials are never echoed back in the error). */
export function checkDatabaseUrl(raw: string | undefined): string {
  const name = 'RECEIVER_DATABASE_URL';
  if (!raw) throw new ConfigError(`${name} is not set: expected mysql://user:pass@host:port/database`);
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(`${name} is not a URL: expected mysql://user:pass@host:port/database`);
  }
  if (u.protocol !== 'mysql:' || !u.hostname || u.pathname.replace(/^\//, '') === '') {
    throw new ConfigError(`${name} (host ${JSON.stringify(u.hostname)}) is invalid: expected mysql://user:pass@host:port/database`);
  }
  return raw;
}

function readTls(env: Env): ReceiverConfig['tls'] {
  const certPath = env.RECEIVER_TLS_CERT;
  const keyPath = env.RECEIVER_TLS_KEY;
  if (!certPath && !keyPath) return undefined;
  if (!certPath) fail('RECEIVER_TLS_CERT', '', 'a PEM certificate path (RECEIVER_TLS_KEY is set)');
  if (!keyPath) fail('RECEIVER_TLS_KEY', '', 'a PEM private key path (RECEIVER_TLS_CERT is set)');
  const read = (name: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch {
      return fail(name, path, 'a readable PEM file');
    }
  };
  return { cert: read('RECEIVER_TLS_CERT', certPath), key: read('RECEIVER_TLS_KEY', keyPath) };
}

/** Reads and validates the receiver's configuration; `needsServer` false skips what only `serve` uses. */
export function loadReceiverConfig(env: Env, needsServer = true): ReceiverConfig {
  const databaseUrl = checkDatabaseUrl(env.RECEIVER_DATABASE_URL);
  const host = env.RECEIVER_HOST || '127.0.0.1';
  const logLevel = env.RECEIVER_LOG_LEVEL || 'info';
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
  if (!levels.includes(logLevel)) fail('RECEIVER_LOG_LEVEL', logLevel, levels.join('|'));
  const limits: ReceiverLimits = {
    bodyBytes: intVar(env, 'RECEIVER_BODY_LIMIT', DEFAULT_LIMITS.bodyBytes, 1024, 1024 ** 3),
    decompressedBytes: intVar(env, 'RECEIVER_DECOMPRESSED_LIMIT', DEFAULT_LIMITS.decompressedBytes, 1024, 4 * 1024 ** 3),
    recordsPerBatch: intVar(env, 'RECEIVER_MAX_RECORDS', DEFAULT_LIMITS.recordsPerBatch, 1, 100_000),
  };
  return {
    databaseUrl,
    host,
    port: intVar(env, 'RECEIVER_PORT', 8080, 0, 65535),
    limits,
    tls: needsServer ? readTls(env) : undefined,
    rateLimitPerSecond: intVar(env, 'RECEIVER_RATE_LIMIT', 0, 0, 1_000_000),
    logLevel,
    dbPoolSize: intVar(env, 'RECEIVER_DB_POOL_SIZE', 10, 1, 1000),
  };
}
