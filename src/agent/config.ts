import convict from 'convict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../shared/errors.js';
import { configSchema } from './config-schema.js';
import { maskUrlCredentials } from './delivery/receiver-url.js';

export interface AgentConfig {
  source: 'dcm4chee' | 'orthanc';
  center: string;
  database: { host: string; port: number; socket: string | null; user: string; password: string; name: string };
  url: string;
  key: string;
  webservice_url: string;
  protocol: 'v2' | 'legacy';
  schedule: string;
  batch_size: number;
  read_chunk: number;
  max_in_flight: number;
  http: { timeout_ms: number; deadline_ms: number; max_response_bytes: number; retries: number; min_backoff_ms: number; max_backoff_ms: number; ca_file: string | null };
  orthanc: { url: string; username: string; password: string; state_file: string; new_study: boolean; max_list_bytes: number };
  log: { level: string; format: 'auto' | 'json' | 'pretty' };
}

/** The untyped view of convict's store: keys are checked by the schema at validate(). */
interface ConfigStore {
  load(value: object): void;
  set(key: string, value: unknown): void;
  get(key: string): unknown;
  has(key: string): boolean;
  validate(options: { allowed: 'strict' }): void;
  getProperties(): unknown;
}

export interface ConfigSources {
  /** `--config FILE`; else config/config.json, else config.json in cwd, when present. */
  configFile?: string | undefined;
  /** `--server FILE`; else server.json in cwd, when present. */
  serverFile?: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
  /** Flag overrides, as dotted keys (e.g. {"batch_size": "100"}), highest precedence. */
  overrides?: Readonly<Record<string, string>>;
  cwd: string;
}

/** Secrets may come from files (Docker/systemd credentials): VAR_FILE wins over VAR. */
const SECRET_FILE_VARS: Record<string, string> = {
  INDEXER_DB_PASSWORD_FILE: 'INDEXER_DB_PASSWORD',
  INDEXER_KEY_FILE: 'INDEXER_KEY',
  INDEXER_ORTHANC_PASSWORD_FILE: 'INDEXER_ORTHANC_PASSWORD',
};

function readJsonFile(file: string, what: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    const value: unknown = JSON.parse(text.replace(/^\uFEFF/, ''));
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not a JSON object');
    return value as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`${what} ${file} is not a valid JSON object: ${(err as Error).message}`);
  }
}

function resolveEnv(env: ConfigSources['env']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  for (const [fileVar, target] of Object.entries(SECRET_FILE_VARS)) {
    const file = env[fileVar];
    if (!file) continue;
    try {
      out[target] = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new ConfigError(`${fileVar}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  return out;
}

function firstExisting(cwd: string, candidates: string[]): string | undefined {
  return candidates.map((c) => path.resolve(cwd, c)).find((c) => existsSync(c));
}

/** Turns convict's messages into one that names the key, the value and what was expected. */
function describeValidationError(err: Error, valueOf: (key: string) => unknown): string {
  return err.message
    .split('\n')
    .map((line) => {
      const unknown = /^configuration param '([^']+)' not declared in the schema$/.exec(line);
      if (unknown) return `unknown key "${unknown[1]}" (not a configuration key; see the README's configuration table)`;
      const invalid = /^([\w.]+): (.*?)(?:: value was .*)?$/.exec(line);
      if (invalid) {
        const [, key = '', expected = ''] = invalid;
        const sensitive = /password|key$/.test(key) && key !== 'batch_size';
        const shown = sensitive ? '(hidden)' : maskUrlCredentials(JSON.stringify(valueOf(key)) ?? 'undefined');
        return `key "${key}" has value ${shown}, expected: ${expected.replace(/^must be /, '')}`;
      }
      return line;
    })
    .join('; ');
}

const URL_KEYS = ['url', 'webservice_url', 'orthanc.url'];

/**
 * A `#` in a URL starts its fragment: `http://user:pa#ss@host` silently becomes another host (or
 * an "invalid URL"). These URLs never need a fragment, so a `#` is a password or path character
 * that must be written %23. The value is shown with its credentials masked.
 */
function refuseUnencodedHash(store: ConfigStore): void {
  for (const key of URL_KEYS) {
    const value = store.get(key);
    if (typeof value !== 'string' || !value.includes('#')) continue;
    const shown = value.replace(/^([a-z][a-z0-9+.-]*:\/\/).*@/i, '$1********@').replace(/#.*/, '#…');
    throw new ConfigError(`key "${key}" has value ${JSON.stringify(shown)}, expected: a URL without "#": percent-encode "#" as %23 (e.g. in a password)`);
  }
}

/** Loads, merges and validates the agent configuration once; the result is frozen. */
export function loadAgentConfig(sources: ConfigSources): AgentConfig {
  const env = resolveEnv(sources.env);
  const store = convict(configSchema as never, { env, args: [] }) as unknown as ConfigStore;

  const configFile =
    sources.configFile !== undefined
      ? path.resolve(sources.cwd, sources.configFile)
      : firstExisting(sources.cwd, ['config/config.json', 'config.json']);
  if (sources.configFile !== undefined && !existsSync(configFile!)) {
    throw new ConfigError(`config file ${configFile} does not exist (from --config)`);
  }
  const serverFile =
    sources.serverFile !== undefined ? path.resolve(sources.cwd, sources.serverFile) : firstExisting(sources.cwd, ['server.json']);
  if (sources.serverFile !== undefined && !existsSync(serverFile!)) {
    throw new ConfigError(`server file ${serverFile} does not exist (from --server)`);
  }

  try {
    if (configFile) store.load(readJsonFile(configFile, 'config file'));
    if (serverFile) {
      const server = readJsonFile(serverFile, 'server file');
      const unknown = Object.keys(server).filter((k) => k !== 'server');
      if (unknown.length > 0) throw new ConfigError(`server file ${serverFile}: unknown key "${unknown[0]}" (expected only "server")`);
      // convict's coerce applies to env and args only: a numeric code ({"server": 7}) is made text here.
      if (server.server !== undefined) store.set('center', typeof server.server === 'number' ? String(server.server) : server.server);
    }
    // Environment beats files (convict applies env at construction, files override it): re-apply.
    for (const [key, schema] of flatSchemaEnv()) if (env[schema] !== undefined) store.set(key, env[schema]);
    for (const [key, value] of Object.entries(sources.overrides ?? {})) {
      if (!store.has(key)) throw new ConfigError(`unknown option for key "${key}"`);
      store.set(key, value);
    }
    refuseUnencodedHash(store);
    store.validate({ allowed: 'strict' });
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`invalid configuration: ${describeValidationError(err as Error, (k) => {
      try {
        return store.get(k);
      } catch {
        return undefined;
      }
    })}`, {
      hint: configFile ? `config file: ${configFile}` : undefined,
    });
  }

  const config = store.getProperties() as unknown as AgentConfig;
  if (!config.url && config.webservice_url) config.url = deriveBaseUrl(config.webservice_url);
  return deepFreeze(config);
}

/** The legacy webservice_url (…/api/v1/register) names the receiver: its base is what precedes /api/. */
export function deriveBaseUrl(webserviceUrl: string): string {
  const u = new URL(webserviceUrl);
  const at = u.pathname.indexOf('/api/');
  const base = at >= 0 ? u.pathname.slice(0, at) : u.pathname.replace(/\/+$/, '');
  return `${u.origin}${base}`;
}

function* flatSchemaEnv(prefix = '', node: Record<string, unknown> = configSchema): Generator<[string, string]> {
  for (const [k, v] of Object.entries(node)) {
    const key = prefix ? `${prefix}.${k}` : k;
    const obj = v as Record<string, unknown>;
    if ('default' in obj) {
      if (typeof obj.env === 'string') yield [key, obj.env];
    } else {
      yield* flatSchemaEnv(key, obj);
    }
  }
}

const SECRET_KEYS = new Set(['password', 'key']);

function maskNode(value: unknown, key: string | undefined): unknown {
  if (typeof value === 'string') return key !== undefined && SECRET_KEYS.has(key) ? (value ? '********' : '') : maskUrlCredentials(value);
  if (Array.isArray(value)) return value.map((v) => maskNode(v, undefined));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskNode(v, k)]));
  return value;
}

/**
 * The effective configuration with secrets masked, for `indexer config`: every password and key,
 * and the credentials embedded in any URL (url, webservice_url, orthanc.url, a database URL).
 */
export function maskSecrets(config: AgentConfig): Record<string, unknown> {
  return maskNode(config, undefined) as Record<string, unknown>;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
