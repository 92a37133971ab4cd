import { ANY, intFormat, STRING, type ConfigOf, type ConfigTree } from '../shared/config-checks.js';
import { BATCH_SIZE, CENTER_CODE, COUNT, CRON_EXPRESSION, HTTP_URL, OPTIONAL_STRING, POSITIVE_INT } from './config-formats.js';
import { SOURCE_CONFIGS } from './sources/source-configs.js';

/**
 * The agent's configuration schema: every key, its default, its doc, its environment variable.
 * The shared keys are here; each source's own keys come from its folder (sources/<name>/*-config.ts,
 * listed in sources/source-configs.ts) and are placed where the source says. The legacy client's
 * config.json layout (database.{host,port,user,password,name}, key, webservice_url, server) is a
 * subset of this schema, so legacy files load unchanged.
 */

type SourceConfigs = (typeof SOURCE_CONFIGS)[number];

/** The names of the sources, the registry's order: the values of the `source` setting. */
export const SOURCE_NAMES = SOURCE_CONFIGS.map((c) => c.name) as SourceConfigs['name'][];

/** A shared key's doc, with what each source also does with it: "base (also …)." */
function docOf(key: string, base: string): string {
  const notes = SOURCE_CONFIGS.flatMap((c): string[] => {
    const note = ('notes' in c ? (c.notes as Readonly<Record<string, string>>) : {})[key];
    return note === undefined ? [] : [note];
  });
  return `${base}${notes.length > 0 ? ` (also ${notes.join('; also ')})` : ''}.`;
}

/** "a", "a or b", "a, b or c". */
function either(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)!}`;
}

const sharedSchema = {
  source: {
    doc: `Where studies come from: ${either(SOURCE_CONFIGS.map((c) => c.label))}.`,
    format: SOURCE_NAMES,
    default: SOURCE_NAMES[0]! as string,
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
  heartbeat_interval_s: {
    doc: '`indexer daemon` posts a heartbeat (counts and codes, no patient data) at least this often, in seconds, besides the one after every pass; 0: no heartbeats at all.',
    format: intFormat(0, 86_400, 'a whole number'),
    default: 300,
    env: 'INDEXER_HEARTBEAT_INTERVAL_S',
  },
  http: {
    timeout_ms: {
      doc: docOf('http.timeout_ms', 'Idle timeout of one receiver request: longest wait for the answer\'s headers, or between two pieces of its body, in milliseconds'),
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
  log: {
    level: { doc: 'Log level: fatal, error, warn, info, debug, trace, silent.', format: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, default: 'info', env: 'INDEXER_LOG_LEVEL' },
    format: { doc: '"auto": pretty on a terminal, JSON otherwise; or "json" / "pretty".', format: ['auto', 'json', 'pretty'] as const, default: 'auto', env: 'INDEXER_LOG_FORMAT' },
  },
} satisfies ConfigTree;

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

export type ConfigSchema = typeof sharedSchema & UnionToIntersection<SourceConfigs['schema']>;

/** The shared keys with each source's sections placed after the key it names. */
function composed(): ConfigSchema {
  const out: ConfigTree = {};
  for (const [key, node] of Object.entries(sharedSchema)) {
    out[key] = node;
    for (const c of SOURCE_CONFIGS) if (c.after === key) Object.assign(out, c.schema);
  }
  for (const c of SOURCE_CONFIGS) if (!(c.after in sharedSchema)) throw new Error(`source ${c.name}: its keys follow "${c.after}", not a configuration key`);
  return out as ConfigSchema;
}

export const configSchema: ConfigSchema = composed();

/** The secrets that may come from files, VAR_FILE → VAR (VAR_FILE wins): the shared ones and the sources'. */
export const SECRET_FILE_VARS: Readonly<Record<string, string>> = Object.assign(
  { INDEXER_KEY_FILE: 'INDEXER_KEY' },
  ...SOURCE_CONFIGS.map((c) => ('secretFiles' in c ? c.secretFiles : {})),
);

/** The agent's configuration: derived from the schema, never written out by hand. */
export type AgentConfig = ConfigOf<ConfigSchema>;
