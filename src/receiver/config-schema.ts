import { isIP } from 'node:net';
import { BOOLEAN, defineFormat, intFormat, type ConfigOf, type ConfigTree } from '../shared/config-checks.js';

/**
 * The receiver's configuration schema: every setting, its environment variable (the receiver reads
 * only its environment), default and doc. docs/receiver.md's table is checked against it.
 */

const ENCODE_HINT = 'percent-encode special characters of the user name and password (# → %23, @ → %40, / → %2F, ? → %3F, % → %25)';
const MYSQL_URL_TEXT = 'mysql://user:pass@host:port/database';

/** Validates a mysql:// URL; the refusal never quotes it (it holds the password). */
const MYSQL_URL = defineFormat('mysql-url', {
  expected: MYSQL_URL_TEXT,
  check(v) {
    if (v === '' || v === null) return { reason: 'is not set', expected: `expected ${MYSQL_URL_TEXT}` };
    const raw = String(v);
    // An unencoded # ends the URL there: the rest of the password, the host and the database are lost.
    if (raw.includes('#')) return { reason: "contains an unencoded '#'", expected: ENCODE_HINT };
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      return { reason: 'is not a URL', expected: `expected ${MYSQL_URL_TEXT}; ${ENCODE_HINT}` };
    }
    if (u.protocol !== 'mysql:' || !u.hostname || u.pathname.replace(/^\//, '') === '') return MYSQL_URL_TEXT;
    return null;
  },
});

const PROXY_TEXT = 'comma-separated IP addresses or CIDRs (e.g. 10.0.0.5,10.1.0.0/16)';

/** RECEIVER_TRUST_PROXY's items: addresses or CIDRs, blanks dropped. */
export function proxyItems(raw: string): string[] {
  return raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

const PROXY_LIST = defineFormat('proxy-list', {
  expected: PROXY_TEXT,
  check(v) {
    if (typeof v !== 'string') return PROXY_TEXT;
    const bad = proxyItems(v).some((item) => {
      const [addr, bits, extra] = item.split('/');
      const family = isIP(addr ?? '');
      const bitsOk = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32));
      return family === 0 || !bitsOk || extra !== undefined;
    });
    return bad ? PROXY_TEXT : null;
  },
});

const PEM_PATH = defineFormat('pem-path', {
  expected: 'a PEM file path',
  check: (v) => (v === null || (typeof v === 'string' && v !== '') ? null : 'a PEM file path'),
});

const HOST = defineFormat('listen-host', {
  expected: 'a host name or address',
  check: (v) => (typeof v === 'string' && v.trim() !== '' ? null : 'a host name or address'),
});

const PUBLIC_URL_TEXT = 'an http(s) URL without query or fragment, e.g. https://index.example.org';
const PUBLIC_URL = defineFormat('public-url', {
  expected: PUBLIC_URL_TEXT,
  check(v) {
    if (v === '' || v === null) return null;
    try {
      const u = new URL(String(v));
      return (u.protocol === 'https:' || u.protocol === 'http:') && u.search === '' && u.hash === '' && u.username === '' ? null : PUBLIC_URL_TEXT;
    } catch {
      return PUBLIC_URL_TEXT;
    }
  },
});

const ORIGINS_TEXT = 'comma-separated origins such as https://viewer.example.org (scheme://host[:port], no path), or *';

/** RECEIVER_CORS_ORIGINS's items, blanks dropped. */
export function originItems(raw: string): string[] {
  return raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

const ORIGIN_LIST = defineFormat('origin-list', {
  expected: ORIGINS_TEXT,
  check(v) {
    if (typeof v !== 'string') return ORIGINS_TEXT;
    const items = originItems(v);
    const bad = items.some((item) => {
      if (item === '*') return items.length > 1;
      try {
        const u = new URL(item);
        return !['http:', 'https:'].includes(u.protocol) || u.origin !== item.replace(/\/$/, '');
      } catch {
        return true;
      }
    });
    return bad ? ORIGINS_TEXT : null;
  },
});

const AE_TEXT = 'an AE title: 1-16 printable ASCII characters, no backslash, no leading or trailing blank';

/** A DICOM AE title (PS3.5 §6.2, AE VR), as this service compares them: exactly, case-sensitive. */
export const AE_TITLE = /^[\x21-\x5b\x5d-\x7e](?:[\x20-\x5b\x5d-\x7e]{0,14}[\x21-\x5b\x5d-\x7e])?$/;

const AE = defineFormat('ae-title', { expected: AE_TEXT, check: (v) => (typeof v === 'string' && AE_TITLE.test(v) ? null : AE_TEXT) });

const MS = intFormat(1000, 3_600_000);
const RATE = intFormat(0, 1_000_000);

export const receiverSchema = {
  database: {
    url: { doc: 'mysql://user:pass@host:port/database (required).', format: MYSQL_URL, default: '', sensitive: true, env: 'RECEIVER_DATABASE_URL' },
    pool_size: { doc: 'Database connections per instance.', format: intFormat(1, 1000), default: 10, env: 'RECEIVER_DB_POOL_SIZE' },
  },
  host: { doc: 'Listen address (0.0.0.0 to accept remote clients; the Docker image sets it).', format: HOST, default: '127.0.0.1', env: 'RECEIVER_HOST' },
  port: { doc: 'Listen port.', format: intFormat(0, 65535), default: 8080, env: 'RECEIVER_PORT' },
  tls: {
    cert: { doc: 'PEM certificate: serve HTTPS (with RECEIVER_TLS_KEY).', format: PEM_PATH, default: null as string | null, nullable: true, env: 'RECEIVER_TLS_CERT' },
    key: { doc: 'PEM private key: serve HTTPS (with RECEIVER_TLS_CERT).', format: PEM_PATH, default: null as string | null, nullable: true, env: 'RECEIVER_TLS_KEY' },
  },
  limits: {
    body_bytes: { doc: 'Bytes accepted on the wire per request.', format: intFormat(1024, 1024 ** 3), default: 16 * 1024 * 1024, env: 'RECEIVER_BODY_LIMIT' },
    decompressed_bytes: { doc: 'Bytes accepted after gzip decompression.', format: intFormat(1024, 4 * 1024 ** 3), default: 64 * 1024 * 1024, env: 'RECEIVER_DECOMPRESSED_LIMIT' },
    records_per_batch: { doc: 'Records per v2 batch (more: 413).', format: intFormat(1, 100_000), default: 5000, env: 'RECEIVER_MAX_RECORDS' },
    inflight_body_bytes: {
      doc: 'Decoded body bytes of all requests in flight together (more: 503 + Retry-After); at least the two limits above.',
      format: intFormat(1024, 16 * 1024 ** 3),
      default: 128 * 1024 * 1024,
      env: 'RECEIVER_INFLIGHT_BODY_LIMIT',
    },
    // A full batch of 5000 records takes ~60 tokens each (~300 with 128 modalities): 5× headroom.
    json_tokens: {
      doc: 'Structural JSON tokens ({ [ , :, about one per value or key) per body, counted before parsing (more: 413).',
      format: intFormat(1000, 100_000_000),
      default: 1_500_000,
      env: 'RECEIVER_MAX_JSON_TOKENS',
    },
  },
  rate_limits: {
    per_principal_per_second: { doc: 'Requests per second per centre key / read token, after authentication (burst 2 s worth); 0: off.', format: RATE, default: 50, env: 'RECEIVER_RATE_LIMIT' },
    concurrent_reads_per_token: {
      doc: 'Reads one read token may have in flight at once (more: 429), so one client cannot hold every database connection; 0: off.',
      format: intFormat(0, 10_000),
      default: 4,
      env: 'RECEIVER_MAX_CONCURRENT_READS',
    },
    per_address_per_second: { doc: 'Requests per second per client address, before the key is looked up (burst 2 s worth); 0: off.', format: RATE, default: 100, env: 'RECEIVER_ADDRESS_RATE_LIMIT' },
    auth_failures_per_minute: { doc: 'Failed authentications per client address per minute before its requests are refused unread; 0: off.', format: RATE, default: 30, env: 'RECEIVER_AUTH_FAILURE_LIMIT' },
  },
  cors_origins: {
    doc: 'Browser origins allowed to call the read routes (a viewer such as OHIF served from another site): comma-separated, or *; unset: no CORS headers.',
    format: ORIGIN_LIST,
    default: '',
    env: 'RECEIVER_CORS_ORIGINS',
  },
  trust_proxy: { doc: 'Comma-separated addresses/CIDRs of reverse proxies whose X-Forwarded-For names the client.', format: PROXY_LIST, default: '', env: 'RECEIVER_TRUST_PROXY' },
  timeouts: {
    headers_ms: { doc: 'The request headers must arrive within this.', format: MS, default: 10_000, env: 'RECEIVER_HEADERS_TIMEOUT_MS' },
    request_ms: { doc: 'The whole request, headers and body, must arrive within this (408 after).', format: MS, default: 60_000, env: 'RECEIVER_REQUEST_TIMEOUT_MS' },
    socket_idle_ms: { doc: 'A connection with no bytes either way for this long is closed.', format: MS, default: 120_000, env: 'RECEIVER_SOCKET_TIMEOUT_MS' },
    keep_alive_ms: { doc: 'An idle keep-alive connection is closed after this.', format: MS, default: 10_000, env: 'RECEIVER_KEEP_ALIVE_TIMEOUT_MS' },
    max_requests_per_socket: { doc: 'Requests served on one connection before it is closed (0: no limit).', format: intFormat(0, 1_000_000), default: 1000, env: 'RECEIVER_MAX_REQUESTS_PER_SOCKET' },
    max_connections: { doc: 'Connections open at once; more are closed on accept.', format: intFormat(1, 1_000_000), default: 512, env: 'RECEIVER_MAX_CONNECTIONS' },
    max_connections_per_address: {
      doc: 'Connections one client address may hold open at once (RECEIVER_TRUST_PROXY addresses exempt); more are closed on accept; 0: no cap.',
      format: intFormat(0, 1_000_000),
      default: 32,
      env: 'RECEIVER_MAX_CONNECTIONS_PER_ADDRESS',
    },
    first_byte_ms: { doc: 'A connection that has sent no byte within this is closed.', format: MS, default: 5_000, env: 'RECEIVER_FIRST_BYTE_TIMEOUT_MS' },
  },
  reads: {
    time_limit_ms: {
      doc: 'A search (JSON API, QIDO-RS, FHIR) the database has not answered within this is stopped and refused (413, query too broad).',
      format: intFormat(100, 600_000),
      default: 5000,
      env: 'RECEIVER_QUERY_TIME_LIMIT_MS',
    },
    max_offset: { doc: 'Highest QIDO-RS `offset` accepted (deeper pages: narrow the query).', format: intFormat(0, 1_000_000), default: 10_000, env: 'RECEIVER_QUERY_MAX_OFFSET' },
    dicomweb_max_results: { doc: 'Studies per QIDO-RS answer at most (a larger or absent `limit` is capped, with Warning 299).', format: intFormat(1, 100_000), default: 1000, env: 'RECEIVER_DICOMWEB_MAX_RESULTS' },
    fhir_default_count: { doc: 'ImagingStudy resources per FHIR search page when `_count` is absent.', format: intFormat(1, 10_000), default: 50, env: 'RECEIVER_FHIR_DEFAULT_COUNT' },
    fhir_max_count: { doc: 'ImagingStudy resources per FHIR search page at most (a larger `_count` is capped).', format: intFormat(1, 10_000), default: 1000, env: 'RECEIVER_FHIR_MAX_COUNT' },
    public_url: {
      doc: 'The receiver\'s public base URL (e.g. https://index.example.org), for the links FHIR answers carry; unset: taken from the request (Host, and X-Forwarded-* from RECEIVER_TRUST_PROXY).',
      format: PUBLIC_URL,
      default: '',
      env: 'RECEIVER_PUBLIC_URL',
    },
  },
  dicom: {
    enabled: { doc: 'Serve the DICOM query service (C-FIND, C-ECHO; docs/dimse.md) inside `serve` too (`indexer-receiver dicom` serves it alone).', format: BOOLEAN, default: false, env: 'RECEIVER_DICOM_ENABLED' },
    host: { doc: 'DICOM listen address (0.0.0.0 to accept remote workstations).', format: HOST, default: '127.0.0.1', env: 'RECEIVER_DICOM_HOST' },
    port: { doc: 'DICOM listen port.', format: intFormat(0, 65535), default: 11112, env: 'RECEIVER_DICOM_PORT' },
    aet: { doc: "The service's own AE title: associations calling another are rejected (called AE title not recognised).", format: AE, default: 'PACS_INDEX', env: 'RECEIVER_DICOM_AET' },
    max_results: { doc: 'Answers per C-FIND at most: past it the query ends with status FE00 and an ErrorComment (narrow it).', format: intFormat(1, 100_000), default: 1000, env: 'RECEIVER_DICOM_MAX_RESULTS' },
    max_associations: { doc: 'DICOM associations open at once; more are rejected (transient, local limit exceeded).', format: intFormat(1, 10_000), default: 32, env: 'RECEIVER_DICOM_MAX_ASSOCIATIONS' },
    association_timeout_ms: { doc: 'A connection must request its association within this.', format: MS, default: 10_000, env: 'RECEIVER_DICOM_ASSOCIATION_TIMEOUT_MS' },
    idle_timeout_ms: { doc: 'An association that sends nothing for this long is aborted.', format: MS, default: 60_000, env: 'RECEIVER_DICOM_IDLE_TIMEOUT_MS' },
    tls: {
      cert: { doc: 'PEM certificate: DICOM over TLS (with RECEIVER_DICOM_TLS_KEY).', format: PEM_PATH, default: null as string | null, nullable: true, env: 'RECEIVER_DICOM_TLS_CERT' },
      key: { doc: 'PEM private key: DICOM over TLS (with RECEIVER_DICOM_TLS_CERT).', format: PEM_PATH, default: null as string | null, nullable: true, env: 'RECEIVER_DICOM_TLS_KEY' },
      ca: { doc: "PEM CA certificates the workstations' client certificates are verified against.", format: PEM_PATH, default: null as string | null, nullable: true, env: 'RECEIVER_DICOM_TLS_CA' },
      require_client_cert: { doc: 'Refuse a TLS connection without a client certificate signed by RECEIVER_DICOM_TLS_CA.', format: BOOLEAN, default: false, env: 'RECEIVER_DICOM_TLS_REQUIRE_CLIENT_CERT' },
    },
  },
  heartbeats: {
    silent_after_s: {
      doc: 'A centre whose agent has not posted a heartbeat for this long is silent (GET /api/v2/centers `health.silent`, /metrics `indexer_center_silent`).',
      format: intFormat(30, 30 * 86_400),
      default: 900,
      env: 'RECEIVER_HEARTBEAT_SILENT_AFTER_S',
    },
    history_days: { doc: 'Days of heartbeat history kept per centre (older entries are pruned as new ones arrive).', format: intFormat(1, 3650), default: 14, env: 'RECEIVER_HEARTBEAT_HISTORY_DAYS' },
  },
  log: {
    level: { doc: 'Log level.', format: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, default: 'info', env: 'RECEIVER_LOG_LEVEL' },
  },
} satisfies ConfigTree;

/** The receiver's settings as the schema gives them (the type is derived, never written out). */
export type ReceiverSettings = ConfigOf<typeof receiverSchema>;
