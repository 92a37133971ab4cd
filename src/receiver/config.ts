import convict from 'convict';
import { readFileSync } from 'node:fs';
import { checkConfig, type ConfigProblem } from '../shared/config-checks.js';
import { ConfigError } from '../shared/errors.js';
import { originItems, proxyItems, receiverSchema, type ReceiverSettings } from './config-schema.js';
import { dicomConfigOf, type DicomConfig } from './dicom-config.js';

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
  /** Browser origins allowed to call the read routes (CORS); empty: none. */
  corsOrigins: string[];
  logLevel: ReceiverSettings['log']['level'];
  dbPoolSize: number;
  reads: ReadSettings;
  /** The DICOM query service (docs/dimse.md). */
  dicom: DicomConfig;
  heartbeats: HeartbeatSettings;
}

/** How agent heartbeats are judged and kept (docs/receiver.md, "Agent heartbeats"). */
export interface HeartbeatSettings {
  /** No heartbeat for this long (s): the centre is silent. */
  silentAfterS: number;
  /** History older than this (days) is pruned. */
  historyDays: number;
}

export const DEFAULT_HEARTBEATS: HeartbeatSettings = {
  silentAfterS: receiverSchema.heartbeats.silent_after_s.default,
  historyDays: receiverSchema.heartbeats.history_days.default,
};

/** How the read interfaces (JSON API, QIDO-RS, FHIR) bound a search. */
export interface ReadSettings {
  /** A search the database has not answered within this (ms) is stopped: 413 query too broad. */
  timeLimitMs: number;
  /** Highest QIDO-RS offset accepted. */
  maxOffset: number;
  /** QIDO-RS answers hold at most this many studies. */
  dicomwebMaxResults: number;
  fhirDefaultCount: number;
  fhirMaxCount: number;
  /** Base URL for absolute links (FHIR); null: from the request. */
  publicUrl: string | null;
}

export const DEFAULT_READS: ReadSettings = {
  timeLimitMs: receiverSchema.reads.time_limit_ms.default,
  maxOffset: receiverSchema.reads.max_offset.default,
  dicomwebMaxResults: receiverSchema.reads.dicomweb_max_results.default,
  fhirDefaultCount: receiverSchema.reads.fhir_default_count.default,
  fhirMaxCount: receiverSchema.reads.fhir_max_count.default,
  publicUrl: null,
};

/** Limits applied per client address before authentication and per key or token after it. */
export interface RateLimitSettings {
  /** Requests per second per key or token (burst 2 s worth); 0: off. */
  perPrincipalPerSecond: number;
  /** Requests per second per client address, checked before the key (burst 2 s worth); 0: off. */
  perAddressPerSecond: number;
  /** Failed authentications per client address per minute before its requests are refused unread; 0: off. */
  authFailuresPerMinute: number;
  /** Reads one read token may have in flight at once (more: 429); 0: off. */
  concurrentReadsPerToken: number;
}

const S = receiverSchema;

export const DEFAULT_RATE_LIMITS: RateLimitSettings = {
  perPrincipalPerSecond: S.rate_limits.per_principal_per_second.default,
  perAddressPerSecond: S.rate_limits.per_address_per_second.default,
  authFailuresPerMinute: S.rate_limits.auth_failures_per_minute.default,
  concurrentReadsPerToken: S.rate_limits.concurrent_reads_per_token.default,
};

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
  headersMs: S.timeouts.headers_ms.default,
  requestMs: S.timeouts.request_ms.default,
  socketIdleMs: S.timeouts.socket_idle_ms.default,
  keepAliveMs: S.timeouts.keep_alive_ms.default,
  maxRequestsPerSocket: S.timeouts.max_requests_per_socket.default,
  maxConnections: S.timeouts.max_connections.default,
  maxConnectionsPerAddress: S.timeouts.max_connections_per_address.default,
  firstByteMs: S.timeouts.first_byte_ms.default,
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
  bodyBytes: S.limits.body_bytes.default,
  decompressedBytes: S.limits.decompressed_bytes.default,
  recordsPerBatch: S.limits.records_per_batch.default,
  inflightBodyBytes: S.limits.inflight_body_bytes.default,
  jsonTokens: S.limits.json_tokens.default,
};

type Env = Record<string, string | undefined>;

/** `NAME="value" is invalid: expected …`, quoting the variable as set (never a secret's value). */
function describe(problem: ConfigProblem, env: Env): string {
  const name = problem.env ?? problem.key;
  if (problem.reason) return `${name} ${problem.reason}: ${problem.expected}`;
  const value = problem.sensitive ? '' : `=${JSON.stringify(env[name] ?? problem.value)}`;
  return `${name}${value} is invalid: expected ${problem.expected}`;
}

/** Only `serve` reads the TLS files; a half-configured pair or an unreadable file is a problem. */
function readTls(s: ReceiverSettings, problems: string[]): ReceiverConfig['tls'] {
  const { cert, key } = s.tls;
  if (cert === null && key === null) return undefined;
  if (cert === null) problems.push('RECEIVER_TLS_CERT="" is invalid: expected a PEM certificate path (RECEIVER_TLS_KEY is set)');
  if (key === null) problems.push('RECEIVER_TLS_KEY="" is invalid: expected a PEM private key path (RECEIVER_TLS_CERT is set)');
  const read = (name: string, path: string | null): Buffer | undefined => {
    if (path === null) return undefined;
    try {
      return readFileSync(path);
    } catch {
      problems.push(`${name}=${JSON.stringify(path)} is invalid: expected a readable PEM file`);
      return undefined;
    }
  };
  const pair = { cert: read('RECEIVER_TLS_CERT', cert), key: read('RECEIVER_TLS_KEY', key) };
  return pair.cert && pair.key ? { cert: pair.cert, key: pair.key } : undefined;
}

function toConfig(s: ReceiverSettings, tls: ReceiverConfig['tls'], dicom: DicomConfig): ReceiverConfig {
  return {
    databaseUrl: s.database.url,
    host: s.host,
    port: s.port,
    limits: {
      bodyBytes: s.limits.body_bytes, decompressedBytes: s.limits.decompressed_bytes,
      recordsPerBatch: s.limits.records_per_batch, inflightBodyBytes: s.limits.inflight_body_bytes,
      jsonTokens: s.limits.json_tokens,
    },
    tls,
    rateLimits: {
      perPrincipalPerSecond: s.rate_limits.per_principal_per_second, perAddressPerSecond: s.rate_limits.per_address_per_second,
      authFailuresPerMinute: s.rate_limits.auth_failures_per_minute,
      concurrentReadsPerToken: s.rate_limits.concurrent_reads_per_token,
    },
    timeouts: {
      headersMs: s.timeouts.headers_ms, requestMs: s.timeouts.request_ms, socketIdleMs: s.timeouts.socket_idle_ms,
      keepAliveMs: s.timeouts.keep_alive_ms, maxRequestsPerSocket: s.timeouts.max_requests_per_socket, maxConnections: s.timeouts.max_connections,
      maxConnectionsPerAddress: s.timeouts.max_connections_per_address, firstByteMs: s.timeouts.first_byte_ms,
    },
    trustProxy: proxyItems(s.trust_proxy),
    corsOrigins: originItems(s.cors_origins).map((o) => o.replace(/\/$/, '')),
    logLevel: s.log.level,
    dbPoolSize: s.database.pool_size,
    reads: {
      timeLimitMs: s.reads.time_limit_ms, maxOffset: s.reads.max_offset, dicomwebMaxResults: s.reads.dicomweb_max_results,
      fhirDefaultCount: s.reads.fhir_default_count, fhirMaxCount: s.reads.fhir_max_count,
      publicUrl: s.reads.public_url === '' ? null : s.reads.public_url.replace(/\/+$/, ''),
    },
    dicom,
    heartbeats: { silentAfterS: s.heartbeats.silent_after_s, historyDays: s.heartbeats.history_days },
  };
}

/**
 * Reads and validates the receiver's configuration from its environment, reporting every problem
 * at once. What is read besides depends on the command: `true` (serve) the HTTPS files, and the
 * DICOM ones when RECEIVER_DICOM_ENABLED; `'dicom'` (the DICOM service alone) only the DICOM
 * ones; `false` (administrative commands) no file. An empty variable is unset.
 */
export function loadReceiverConfig(env: Env, needsServer: boolean | 'dicom' = true): ReceiverConfig {
  const set: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') set[k] = v;
  const store = convict<ReceiverSettings>(receiverSchema as never, { env: set, args: [] });
  const problems = checkConfig(store as unknown as { get(key: string): unknown }, receiverSchema).map((p) => describe(p, set));
  const s = store.getProperties();
  const largest = Math.max(s.limits.body_bytes, s.limits.decompressed_bytes);
  if (problems.length === 0 && s.limits.inflight_body_bytes < largest) {
    problems.push(`RECEIVER_INFLIGHT_BODY_LIMIT=${JSON.stringify(set.RECEIVER_INFLIGHT_BODY_LIMIT ?? String(s.limits.inflight_body_bytes))} is invalid: expected at least RECEIVER_BODY_LIMIT and RECEIVER_DECOMPRESSED_LIMIT (${largest}), or no body that large could ever be accepted`);
  }
  const tls = needsServer === true ? readTls(s, problems) : undefined;
  const dicom = dicomConfigOf(s.dicom, needsServer === 'dicom' || (needsServer === true && s.dicom.enabled), problems);
  if (problems.length > 0) throw new ConfigError(problems.join('; '));
  return toConfig(s, tls, dicom);
}
