import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { ConfigError } from '../shared/errors.js';

/** Everything the receiver reads from its environment, validated once at start. */
export interface ReceiverConfig {
  databaseUrl: string;
  host: string;
  port: number;
  limits: ReceiverLimits;
  tls: { cert: Buffer; key: Buffer } | undefined;
  rateLimits: RateLimitSettings;
  timeouts: ServerTimeouts;
  /** Proxies whose X-Forwarded-For is believed (addresses or CIDRs); empty: the peer address is the client. */
  trustProxy: string[];
  logLevel: string;
  dbPoolSize: number;
}

/** Limits applied per client address before authentication and per key or token after it. */
export interface RateLimitSettings {
  /** Requests per second per key or token (burst 2 s worth); 0: off. */
  perPrincipalPerSecond: number;
  /** Requests per second per client address, checked before the key (burst 2 s worth); 0: off. */
  perAddressPerSecond: number;
  /** Failed authentications per client address per minute before its requests are refused unread; 0: off. */
  authFailuresPerMinute: number;
}

export const DEFAULT_RATE_LIMITS: RateLimitSettings = { perPrincipalPerSecond: 50, perAddressPerSecond: 100, authFailuresPerMinute: 30 };

/** Socket and request timeouts (ms) and the connection cap of the HTTP server. */
export interface ServerTimeouts {
  /** The request headers must arrive within this (slow-header clients). */
  headersMs: number;
  /** The whole request, headers and body, must arrive within this (trickling bodies): 408 after. */
  requestMs: number;
  /** A socket with no bytes either way for this long is closed (must exceed the slowest handler). */
  socketIdleMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveMs: number;
  /** Requests served on one connection before it is closed (0: no limit). */
  maxRequestsPerSocket: number;
  /** Connections accepted at once; more are closed on accept. */
  maxConnections: number;
  /** Connections one client address may hold at once (0: no cap); more are closed on accept. */
  maxConnectionsPerAddress: number;
  /** A connection that sends no byte within this is closed (before the headers timeout). */
  firstByteMs: number;
}

export const DEFAULT_TIMEOUTS: ServerTimeouts = {
  headersMs: 10_000,
  requestMs: 60_000,
  socketIdleMs: 120_000,
  keepAliveMs: 10_000,
  maxRequestsPerSocket: 1000,
  maxConnections: 512,
  maxConnectionsPerAddress: 32,
  firstByteMs: 5_000,
};

export interface ReceiverLimits {
  /** Bytes accepted on the wire (compressed or not). */
  bodyBytes: number;
  /** Bytes accepted after gzip decompression. */
  decompressedBytes: number;
  /** Records accepted in one v2 batch. */
  recordsPerBatch: number;
  /**
   * Decoded body bytes held by all requests in flight together: past it, a request is answered 503
   * (Retry-After) instead of being read further, so concurrent bodies cannot exhaust memory.
   */
  inflightBodyBytes: number;
  /**
   * Structural JSON tokens (`{ [ , :`, about one per value or key) accepted in one body, counted
   * before it is parsed: what JSON.parse allocates grows with them, not with the bytes.
   */
  jsonTokens: number;
}

export const DEFAULT_LIMITS: ReceiverLimits = {
  bodyBytes: 16 * 1024 * 1024,
  decompressedBytes: 64 * 1024 * 1024,
  recordsPerBatch: 5000,
  inflightBodyBytes: 128 * 1024 * 1024,
  // A full batch of 5000 records takes ~60 tokens each (~300 with 128 modalities): 5× headroom.
  jsonTokens: 1_500_000,
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

const ENCODE_HINT = 'percent-encode special characters of the user name and password (# → %23, @ → %40, / → %2F, ? → %3F, % → %25)';

/** Validates a mysql:// URL (credentials are never echoed back in the error). */
export function checkDatabaseUrl(raw: string | undefined): string {
  const name = 'RECEIVER_DATABASE_URL';
  if (!raw) throw new ConfigError(`${name} is not set: expected mysql://user:pass@host:port/database`);
  // An unencoded # ends the URL there: the rest of the password, the host and the database are lost.
  if (raw.includes('#')) throw new ConfigError(`${name} contains an unencoded '#': ${ENCODE_HINT}`);
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(`${name} is not a URL: expected mysql://user:pass@host:port/database; ${ENCODE_HINT}`);
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

/** RECEIVER_TRUST_PROXY: comma-separated addresses or CIDRs of the reverse proxies in front. */
function readTrustProxy(env: Env): string[] {
  const raw = env.RECEIVER_TRUST_PROXY ?? '';
  const items = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const item of items) {
    const [addr, bits, extra] = item.split('/');
    const family = isIP(addr ?? '');
    const bitsOk = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32));
    if (family === 0 || !bitsOk || extra !== undefined) fail('RECEIVER_TRUST_PROXY', raw, 'comma-separated IP addresses or CIDRs (e.g. 10.0.0.5,10.1.0.0/16)');
  }
  return items;
}

function readTimeouts(env: Env): ServerTimeouts {
  const d = DEFAULT_TIMEOUTS;
  const ms = (name: string, fallback: number) => intVar(env, name, fallback, 1000, 3_600_000);
  return {
    headersMs: ms('RECEIVER_HEADERS_TIMEOUT_MS', d.headersMs),
    requestMs: ms('RECEIVER_REQUEST_TIMEOUT_MS', d.requestMs),
    socketIdleMs: ms('RECEIVER_SOCKET_TIMEOUT_MS', d.socketIdleMs),
    keepAliveMs: ms('RECEIVER_KEEP_ALIVE_TIMEOUT_MS', d.keepAliveMs),
    maxRequestsPerSocket: intVar(env, 'RECEIVER_MAX_REQUESTS_PER_SOCKET', d.maxRequestsPerSocket, 0, 1_000_000),
    maxConnections: intVar(env, 'RECEIVER_MAX_CONNECTIONS', d.maxConnections, 1, 1_000_000),
    maxConnectionsPerAddress: intVar(env, 'RECEIVER_MAX_CONNECTIONS_PER_ADDRESS', d.maxConnectionsPerAddress, 0, 1_000_000),
    firstByteMs: ms('RECEIVER_FIRST_BYTE_TIMEOUT_MS', d.firstByteMs),
  };
}

function readRateLimits(env: Env): RateLimitSettings {
  const d = DEFAULT_RATE_LIMITS;
  return {
    perPrincipalPerSecond: intVar(env, 'RECEIVER_RATE_LIMIT', d.perPrincipalPerSecond, 0, 1_000_000),
    perAddressPerSecond: intVar(env, 'RECEIVER_ADDRESS_RATE_LIMIT', d.perAddressPerSecond, 0, 1_000_000),
    authFailuresPerMinute: intVar(env, 'RECEIVER_AUTH_FAILURE_LIMIT', d.authFailuresPerMinute, 0, 1_000_000),
  };
}

function readLimits(env: Env): ReceiverLimits {
  const limits: ReceiverLimits = {
    bodyBytes: intVar(env, 'RECEIVER_BODY_LIMIT', DEFAULT_LIMITS.bodyBytes, 1024, 1024 ** 3),
    decompressedBytes: intVar(env, 'RECEIVER_DECOMPRESSED_LIMIT', DEFAULT_LIMITS.decompressedBytes, 1024, 4 * 1024 ** 3),
    recordsPerBatch: intVar(env, 'RECEIVER_MAX_RECORDS', DEFAULT_LIMITS.recordsPerBatch, 1, 100_000),
    inflightBodyBytes: intVar(env, 'RECEIVER_INFLIGHT_BODY_LIMIT', DEFAULT_LIMITS.inflightBodyBytes, 1024, 16 * 1024 ** 3),
    jsonTokens: intVar(env, 'RECEIVER_MAX_JSON_TOKENS', DEFAULT_LIMITS.jsonTokens, 1000, 100_000_000),
  };
  const largest = Math.max(limits.bodyBytes, limits.decompressedBytes);
  if (limits.inflightBodyBytes < largest) {
    fail('RECEIVER_INFLIGHT_BODY_LIMIT', String(limits.inflightBodyBytes), `at least RECEIVER_BODY_LIMIT and RECEIVER_DECOMPRESSED_LIMIT (${largest}), or no body that large could ever be accepted`);
  }
  return limits;
}

/** Reads and validates the receiver's configuration; `needsServer` false skips what only `serve` uses. */
export function loadReceiverConfig(env: Env, needsServer = true): ReceiverConfig {
  const databaseUrl = checkDatabaseUrl(env.RECEIVER_DATABASE_URL);
  const host = env.RECEIVER_HOST || '127.0.0.1';
  const logLevel = env.RECEIVER_LOG_LEVEL || 'info';
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
  if (!levels.includes(logLevel)) fail('RECEIVER_LOG_LEVEL', logLevel, levels.join('|'));
  const limits = readLimits(env);
  const rateLimits = readRateLimits(env);
  return {
    databaseUrl,
    host,
    port: intVar(env, 'RECEIVER_PORT', 8080, 0, 65535),
    limits,
    tls: needsServer ? readTls(env) : undefined,
    rateLimits,
    timeouts: readTimeouts(env),
    trustProxy: readTrustProxy(env),
    logLevel,
    dbPoolSize: intVar(env, 'RECEIVER_DB_POOL_SIZE', 10, 1, 1000),
  };
}
