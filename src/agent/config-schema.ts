import { validate as validateCron } from 'node-cron';
import { ANY, BOOLEAN, defineFormat, intFormat, STRING, type ConfigOf, type ConfigTree } from '../shared/config-checks.js';

/**
 * The agent's configuration schema: every key, its default, its doc, its environment variable.
 * The legacy client's config.json layout (database.{host,port,user,password,name}, key,
 * webservice_url, server) is a subset of this schema, so legacy files load unchanged.
 */

// Legacy config.json files write numbers as strings ("3306"): intFormat accepts both, stores a number.
const TCP_PORT = intFormat(1, 65535, 'a whole number');
const POSITIVE_INT = intFormat(1, 1_000_000_000, 'a whole number');
const BATCH_SIZE = intFormat(1, 10_000, 'a whole number');
const COUNT = intFormat(0, 1_000_000, 'a whole number');

const NON_EMPTY_STRING = defineFormat('non-empty-string', {
  expected: 'a non-empty string',
  check: (v) => (typeof v === 'string' && v.trim() !== '' ? null : 'a non-empty string'),
});

const OPTIONAL_STRING = defineFormat('optional-string', {
  expected: 'a string or null',
  check: (v) => (v === null || typeof v === 'string' ? null : 'a string or null'),
});

const CENTER_CODE_TEXT = '1 to 32 letters, digits, "_", "-" or "." (e.g. "000")';
const CENTER_CODE = defineFormat('center-code', {
  expected: CENTER_CODE_TEXT,
  // Empty: checked by the commands that need a centre.
  check: (v) => (v === null || v === '' || (typeof v === 'string' && /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/.test(v)) ? null : CENTER_CODE_TEXT),
});

/**
 * A `#` in a URL starts its fragment: `http://user:pa#ss@host` silently becomes another host (or
 * an "invalid URL"). These URLs never need a fragment, so a `#` is a password or path character
 * that must be written %23.
 */
const HTTP_URL = defineFormat('http-url', {
  expected: 'an absolute http:// or https:// URL',
  check(v) {
    if (v === null || v === '') return null;
    if (typeof v === 'string' && v.includes('#')) return 'a URL without "#": percent-encode "#" as %23 (e.g. in a password)';
    let u: URL;
    try {
      u = new URL(String(v));
    } catch {
      return 'an absolute http:// or https:// URL';
    }
    return u.protocol === 'http:' || u.protocol === 'https:' ? null : 'an http:// or https:// URL';
  },
});

const CRON_TEXT = 'a cron expression of 5 fields (or 6, the first being seconds)';
const CRON_EXPRESSION = defineFormat('cron-expression', {
  expected: CRON_TEXT,
  check(v) {
    const fields = typeof v === 'string' ? v.trim().split(/\s+/) : [];
    if (fields.length !== 5 && fields.length !== 6) return CRON_TEXT;
    // node-cron's own parser: what it accepts is exactly what `indexer daemon` can schedule.
    return validateCron(String(v)) ? null : `${CRON_TEXT}, each field in range (minute 0-59, hour 0-23, day 1-31, month 1-12, weekday 0-7)`;
  },
});

export const configSchema = {
  source: {
    doc: 'Where studies come from: "dcm4chee" (the 2.x MySQL pacsdb) or "orthanc".',
    format: ['dcm4chee', 'orthanc'] as const,
    default: 'dcm4chee',
    env: 'INDEXER_SOURCE',
  },
  center: {
    doc: 'Centre code sent with every record. Usually set by server.json ({"server": "000"}).',
    format: CENTER_CODE,
    default: '',
    env: 'INDEXER_CENTER',
  },
  server: {
    doc: 'Legacy config.json key, ignored as the legacy client ignored it: the centre code comes from server.json.',
    format: ANY,
    default: null as unknown,
    nullable: true,
  },
  database: {
    host: { doc: 'PACS database host.', format: NON_EMPTY_STRING, default: '127.0.0.1', env: 'INDEXER_DB_HOST' },
    port: { doc: 'PACS database port.', format: TCP_PORT, default: 3306, env: 'INDEXER_DB_PORT' },
    socket: {
      doc: 'Unix socket path of the PACS database; when set, host and port are not used.',
      format: OPTIONAL_STRING,
      default: null as string | null,
      nullable: true,
      env: 'INDEXER_DB_SOCKET',
    },
    user: { doc: 'PACS database user (see the README for its GRANTs).', format: NON_EMPTY_STRING, default: 'indexer', env: 'INDEXER_DB_USER' },
    password: { doc: 'PACS database password (also INDEXER_DB_PASSWORD_FILE).', format: STRING, default: '', sensitive: true, env: 'INDEXER_DB_PASSWORD' },
    name: { doc: 'PACS database name.', format: NON_EMPTY_STRING, default: 'pacsdb', env: 'INDEXER_DB_NAME' },
  },
  url: {
    doc: 'Receiver base URL, e.g. https://index.example.org. Defaults to the origin of webservice_url.',
    format: HTTP_URL,
    default: '',
    env: 'INDEXER_URL',
  },
  key: {
    doc: 'The centre write key issued by the receiver (also INDEXER_KEY_FILE).',
    format: STRING,
    default: '',
    sensitive: true,
    env: 'INDEXER_KEY',
  },
  webservice_url: {
    doc: 'Legacy receiver endpoint, used with protocol "legacy" (one record per POST).',
    format: HTTP_URL,
    default: 'http://localhost:8899/api/v1/register',
    env: 'INDEXER_WEBSERVICE_URL',
  },
  protocol: {
    doc: '"v2": gzip batches to {url}/api/v2/centers/{center}/studies; "legacy": one record per POST to webservice_url.',
    format: ['v2', 'legacy'] as const,
    default: 'v2',
    env: 'INDEXER_PROTOCOL',
  },
  schedule: {
    doc: 'Cron expression of `indexer daemon`; six fields give seconds (e.g. "*/10 * * * * *").',
    format: CRON_EXPRESSION,
    default: '*/5 * * * *',
    env: 'INDEXER_SCHEDULE',
  },
  batch_size: { doc: 'Records per POST.', format: BATCH_SIZE, default: 500, env: 'INDEXER_BATCH_SIZE' },
  read_chunk: {
    doc: 'Rows read from the PACS per query (initial load and queue), kept small so no query holds the PACS for long.',
    format: BATCH_SIZE,
    default: 2000,
    env: 'INDEXER_READ_CHUNK',
  },
  max_in_flight: { doc: 'Batches posted concurrently.', format: POSITIVE_INT, default: 2, env: 'INDEXER_MAX_IN_FLIGHT' },
  http: {
    timeout_ms: {
      doc: 'Idle timeout of one receiver request: longest wait for the answer\'s headers, or between two pieces of its body, in milliseconds (also the whole-request limit of one Orthanc request).',
      format: POSITIVE_INT,
      default: 30_000,
      env: 'INDEXER_HTTP_TIMEOUT_MS',
    },
    deadline_ms: {
      doc: 'Overall limit of one receiver request (connecting, sending, the headers and the whole body), in milliseconds; retried like any timeout. A receiver trickling its answer cannot hold a pass longer.',
      format: POSITIVE_INT,
      default: 120_000,
      env: 'INDEXER_HTTP_DEADLINE_MS',
    },
    max_response_bytes: {
      doc: 'Largest receiver answer read, in bytes; a larger one fails the request at once (not retried). The largest legitimate answer is a reconcile day listing, about 200 bytes per study.',
      format: POSITIVE_INT,
      default: 32 * 1024 * 1024,
      env: 'INDEXER_HTTP_MAX_RESPONSE_BYTES',
    },
    retries: { doc: 'Retries of one request after the first try, on outages only (refused or reset connections, timeouts, 429, 5xx); an unknown host, a TLS mismatch, 401/403, a wrong path or an oversized answer fail at once.', format: COUNT, default: 6, env: 'INDEXER_HTTP_RETRIES' },
    min_backoff_ms: { doc: 'First retry delay; doubles each retry, with jitter.', format: POSITIVE_INT, default: 500, env: 'INDEXER_HTTP_MIN_BACKOFF_MS' },
    max_backoff_ms: { doc: 'Longest retry delay (also caps Retry-After).', format: POSITIVE_INT, default: 60_000, env: 'INDEXER_HTTP_MAX_BACKOFF_MS' },
    ca_file: {
      doc: 'PEM file of extra certificate authorities to trust for the receiver (a private CA). Verification is never turned off.',
      format: OPTIONAL_STRING,
      default: null as string | null,
      nullable: true,
      env: 'INDEXER_CA_FILE',
    },
  },
  orthanc: {
    url: { doc: 'Orthanc base URL; "http://login:password@host:8042" is accepted.', format: HTTP_URL, default: 'http://127.0.0.1:8042', env: 'INDEXER_ORTHANC_URL' },
    username: { doc: 'Orthanc HTTP basic auth user.', format: STRING, default: '', env: 'INDEXER_ORTHANC_USERNAME' },
    password: { doc: 'Orthanc HTTP basic auth password (also INDEXER_ORTHANC_PASSWORD_FILE).', format: STRING, default: '', sensitive: true, env: 'INDEXER_ORTHANC_PASSWORD' },
    state_file: { doc: 'Where the Orthanc change-feed checkpoint is kept (written atomically).', format: STRING, default: 'indexer-state.json', env: 'INDEXER_ORTHANC_STATE_FILE' },
    new_study: { doc: 'Also react to NewStudy (sooner, possibly incomplete counts), not only StableStudy.', format: BOOLEAN, default: false, env: 'INDEXER_ORTHANC_NEW_STUDY' },
    max_list_bytes: {
      doc: 'Largest answer to the study listing (GET /studies, about 50 bytes per study) read from Orthanc, in bytes; every other Orthanc answer is capped at 16 MiB.',
      format: POSITIVE_INT,
      default: 256 * 1024 * 1024,
      env: 'INDEXER_ORTHANC_MAX_LIST_BYTES',
    },
  },
  log: {
    level: { doc: 'Log level: fatal, error, warn, info, debug, trace, silent.', format: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, default: 'info', env: 'INDEXER_LOG_LEVEL' },
    format: { doc: '"auto": pretty on a terminal, JSON otherwise; or "json" / "pretty".', format: ['auto', 'json', 'pretty'] as const, default: 'auto', env: 'INDEXER_LOG_FORMAT' },
  },
} satisfies ConfigTree;

export type ConfigSchema = typeof configSchema;
/** The agent's configuration: derived from the schema, never written out by hand. */
export type AgentConfig = ConfigOf<ConfigSchema>;
