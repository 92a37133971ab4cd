import convict from 'convict';

/**
 * The agent's configuration schema: every key, its default, its doc, its environment variable.
 * The legacy client's config.json layout (database.{host,port,user,password,name}, key,
 * webservice_url, server) is a subset of this schema, so legacy files load unchanged.
 */

// Legacy config.json files write numbers as strings ("3306"): accept both, store a number.
const intFormat = (name: string, min: number, max: number) => ({
  name,
  coerce: (v: unknown) => (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v),
  validate(v: unknown) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new Error(`must be a whole number from ${min} to ${max}`);
    }
  },
});

convict.addFormats({
  'tcp-port': intFormat('tcp-port', 1, 65535),
  'positive-int': intFormat('positive-int', 1, 1_000_000_000),
  'batch-size': intFormat('batch-size', 1, 10_000),
  'non-empty-string': {
    validate(v: unknown) {
      if (typeof v !== 'string' || v.trim() === '') throw new Error('must be a non-empty string');
    },
  },
  'optional-string': {
    validate(v: unknown) {
      if (v !== null && typeof v !== 'string') throw new Error('must be a string or null');
    },
  },
  'center-code': {
    // A number in server.json ({"server": 0}) is taken as its decimal text.
    coerce: (v: unknown) => (typeof v === 'number' ? String(v) : v),
    validate(v: unknown) {
      if (v === null || v === '') return; // checked by commands that need it
      if (typeof v !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/.test(v)) {
        throw new Error('must be 1 to 32 letters, digits, "_", "-" or "." (e.g. "000")');
      }
    },
  },
  'http-url': {
    validate(v: unknown) {
      if (v === null || v === '') return;
      let u: URL;
      try {
        u = new URL(String(v));
      } catch {
        throw new Error('must be an absolute http:// or https:// URL');
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('must be an http:// or https:// URL');
    },
  },
  'cron-expression': {
    validate(v: unknown) {
      const fields = typeof v === 'string' ? v.trim().split(/\s+/) : [];
      if (fields.length !== 5 && fields.length !== 6) {
        throw new Error('must be a cron expression of 5 fields (or 6, the first being seconds)');
      }
    },
  },
});

export const configSchema = {
  source: {
    doc: 'Where studies come from: "dcm4chee" (the 2.x MySQL pacsdb) or "orthanc".',
    format: ['dcm4chee', 'orthanc'],
    default: 'dcm4chee',
    env: 'INDEXER_SOURCE',
  },
  center: {
    doc: 'Centre code sent with every record. Usually set by server.json ({"server": "000"}).',
    format: 'center-code',
    default: '',
    env: 'INDEXER_CENTER',
  },
  server: {
    doc: 'Legacy config.json key, ignored as the legacy client ignored it: the centre code comes from server.json.',
    format: '*',
    default: null as unknown,
    nullable: true,
  },
  database: {
    host: { doc: 'PACS database host.', format: 'non-empty-string', default: '127.0.0.1', env: 'INDEXER_DB_HOST' },
    port: { doc: 'PACS database port.', format: 'tcp-port', default: 3306, env: 'INDEXER_DB_PORT' },
    socket: {
      doc: 'Unix socket path of the PACS database; when set, host and port are not used.',
      format: 'optional-string',
      default: null as string | null,
      nullable: true,
      env: 'INDEXER_DB_SOCKET',
    },
    user: { doc: 'PACS database user (see the README for its GRANTs).', format: 'non-empty-string', default: 'indexer', env: 'INDEXER_DB_USER' },
    password: { doc: 'PACS database password (also INDEXER_DB_PASSWORD_FILE).', format: String, default: '', sensitive: true, env: 'INDEXER_DB_PASSWORD' },
    name: { doc: 'PACS database name.', format: 'non-empty-string', default: 'pacsdb', env: 'INDEXER_DB_NAME' },
  },
  url: {
    doc: 'Receiver base URL, e.g. https://index.example.org. Defaults to the origin of webservice_url.',
    format: 'http-url',
    default: '',
    env: 'INDEXER_URL',
  },
  key: {
    doc: 'The centre write key issued by the receiver (also INDEXER_KEY_FILE).',
    format: String,
    default: '',
    sensitive: true,
    env: 'INDEXER_KEY',
  },
  webservice_url: {
    doc: 'Legacy receiver endpoint, used with protocol "legacy" (one record per POST).',
    format: 'http-url',
    default: 'http://localhost:8899/api/v1/register',
    env: 'INDEXER_WEBSERVICE_URL',
  },
  protocol: {
    doc: '"v2": gzip batches to {url}/api/v2/centers/{center}/studies; "legacy": one record per POST to webservice_url.',
    format: ['v2', 'legacy'],
    default: 'v2',
    env: 'INDEXER_PROTOCOL',
  },
  schedule: {
    doc: 'Cron expression of `indexer daemon`; six fields give seconds (e.g. "*/10 * * * * *").',
    format: 'cron-expression',
    default: '*/5 * * * *',
    env: 'INDEXER_SCHEDULE',
  },
  batch_size: { doc: 'Records per POST.', format: 'batch-size', default: 500, env: 'INDEXER_BATCH_SIZE' },
  read_chunk: {
    doc: 'Rows read from the PACS per query (initial load and queue), kept small so no query holds the PACS for long.',
    format: 'batch-size',
    default: 2000,
    env: 'INDEXER_READ_CHUNK',
  },
  max_in_flight: { doc: 'Batches posted concurrently.', format: 'positive-int', default: 2, env: 'INDEXER_MAX_IN_FLIGHT' },
  http: {
    timeout_ms: {
      doc: 'Idle timeout of one receiver request: longest wait for the answer\'s headers, or between two pieces of its body, in milliseconds (also the whole-request limit of one Orthanc request).',
      format: 'positive-int',
      default: 30_000,
      env: 'INDEXER_HTTP_TIMEOUT_MS',
    },
    deadline_ms: {
      doc: 'Overall limit of one receiver request (connecting, sending, the headers and the whole body), in milliseconds; retried like any timeout. A receiver trickling its answer cannot hold a pass longer.',
      format: 'positive-int',
      default: 120_000,
      env: 'INDEXER_HTTP_DEADLINE_MS',
    },
    max_response_bytes: {
      doc: 'Largest receiver answer read, in bytes; a larger one fails the request at once (not retried). The largest legitimate answer is a reconcile day listing, about 200 bytes per study.',
      format: 'positive-int',
      default: 32 * 1024 * 1024,
      env: 'INDEXER_HTTP_MAX_RESPONSE_BYTES',
    },
    retries: { doc: 'Retries of one request after the first try, on outages only (refused or reset connections, timeouts, 429, 5xx); an unknown host, a TLS mismatch, 401/403, a wrong path or an oversized answer fail at once.', format: 'nat', default: 6, env: 'INDEXER_HTTP_RETRIES' },
    min_backoff_ms: { doc: 'First retry delay; doubles each retry, with jitter.', format: 'positive-int', default: 500, env: 'INDEXER_HTTP_MIN_BACKOFF_MS' },
    max_backoff_ms: { doc: 'Longest retry delay (also caps Retry-After).', format: 'positive-int', default: 60_000, env: 'INDEXER_HTTP_MAX_BACKOFF_MS' },
    ca_file: {
      doc: 'PEM file of extra certificate authorities to trust for the receiver (a private CA). Verification is never turned off.',
      format: 'optional-string',
      default: null as string | null,
      nullable: true,
      env: 'INDEXER_CA_FILE',
    },
  },
  orthanc: {
    url: { doc: 'Orthanc base URL; "http://login:password@host:8042" is accepted.', format: 'http-url', default: 'http://127.0.0.1:8042', env: 'INDEXER_ORTHANC_URL' },
    username: { doc: 'Orthanc HTTP basic auth user.', format: String, default: '', env: 'INDEXER_ORTHANC_USERNAME' },
    password: { doc: 'Orthanc HTTP basic auth password (also INDEXER_ORTHANC_PASSWORD_FILE).', format: String, default: '', sensitive: true, env: 'INDEXER_ORTHANC_PASSWORD' },
    state_file: { doc: 'Where the Orthanc change-feed checkpoint is kept (written atomically).', format: String, default: 'indexer-state.json', env: 'INDEXER_ORTHANC_STATE_FILE' },
    new_study: { doc: 'Also react to NewStudy (sooner, possibly incomplete counts), not only StableStudy.', format: Boolean, default: false, env: 'INDEXER_ORTHANC_NEW_STUDY' },
    max_list_bytes: {
      doc: 'Largest answer to the study listing (GET /studies, about 50 bytes per study) read from Orthanc, in bytes; every other Orthanc answer is capped at 16 MiB.',
      format: 'positive-int',
      default: 256 * 1024 * 1024,
      env: 'INDEXER_ORTHANC_MAX_LIST_BYTES',
    },
  },
  log: {
    level: { doc: 'Log level: fatal, error, warn, info, debug, trace, silent.', format: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info', env: 'INDEXER_LOG_LEVEL' },
    format: { doc: '"auto": pretty on a terminal, JSON otherwise; or "json" / "pretty".', format: ['auto', 'json', 'pretty'], default: 'auto', env: 'INDEXER_LOG_FORMAT' },
  },
};

export type ConfigSchema = typeof configSchema;
export type AgentConfigStore = convict.Config<convict.Schema<unknown>>;
