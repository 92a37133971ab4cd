import convict from 'convict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { checkConfig, originOf, undeclaredKeys, type ConfigProblem, type ValueOrigins } from '../shared/config-checks.js';
import { ConfigError } from '../shared/errors.js';
import { configSchema, SECRET_FILE_VARS, type AgentConfig } from './config-schema.js';
import { maskUrlCredentials } from './delivery/receiver-url.js';

export type { AgentConfig } from './config-schema.js';

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

/** Secrets may come from files (Docker/systemd credentials): VAR_FILE wins over VAR. */
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

/** A value as a message may show it: secrets hidden, a URL's login masked (also past an unencoded "#"). */
function shown(problem: ConfigProblem): string {
  if (problem.sensitive) return '(hidden)';
  const text = JSON.stringify(problem.value) ?? 'undefined';
  return maskUrlCredentials(text.replace(/^("[a-z][a-z0-9+.-]*:\/\/).*@/i, '$1********@').replace(/#.*"$/, '#…"'));
}

/** Names where the value came from: an environment variable or a flag is not the config file. */
function describe(problem: ConfigProblem, origins: ValueOrigins): string {
  return `key "${problem.key}" has value ${shown(problem)}, expected: ${problem.reason ? `${problem.reason}: ` : ''}${problem.expected} (${originOf(problem, origins)})`;
}

/** The flag that sets a key (command-specs.ts FLAG_TO_KEY: `batch_size` ← `--batch-size`, `log.level` ← `--log-level`). */
const flagOf = (key: string): string => `--${key.replace(/[_.]/g, '-')}`;

function unknownKey(key: string): string {
  return `unknown key "${key}" (not a configuration key; see the README's configuration table)`;
}

function configFileOf(sources: ConfigSources): string | undefined {
  if (sources.configFile === undefined) return firstExisting(sources.cwd, ['config/config.json', 'config.json']);
  const file = path.resolve(sources.cwd, sources.configFile);
  if (!existsSync(file)) throw new ConfigError(`config file ${file} does not exist (from --config)`);
  return file;
}

/** server.json holds only the centre code; a number ({"server": 7}) is taken as its text. */
function serverFileCenter(sources: ConfigSources): string | undefined {
  const file = sources.serverFile !== undefined ? path.resolve(sources.cwd, sources.serverFile) : firstExisting(sources.cwd, ['server.json']);
  if (sources.serverFile !== undefined && !existsSync(file!)) throw new ConfigError(`server file ${file} does not exist (from --server)`);
  if (!file) return undefined;
  const server = readJsonFile(file, 'server file');
  const unknown = Object.keys(server).filter((k) => k !== 'server');
  if (unknown.length > 0) throw new ConfigError(`server file ${file}: unknown key "${unknown[0]}" (expected only "server")`);
  return typeof server.server === 'number' ? String(server.server) : (server.server as string | undefined);
}

/**
 * Loads, merges and validates the agent configuration once; the result is frozen. Precedence:
 * defaults < config file < server.json < environment < flags (convict re-applies the environment
 * after each load; flags are set last). Every problem is reported at once.
 */
export function loadAgentConfig(sources: ConfigSources): AgentConfig {
  const env = resolveEnv(sources.env);
  const store = convict<AgentConfig>(configSchema as never, { env, args: [] });
  const configFile = configFileOf(sources);
  const fileValues = configFile ? readJsonFile(configFile, 'config file') : {};
  const unknown = undeclaredKeys(fileValues, configSchema).map(unknownKey);
  const center = serverFileCenter(sources);
  store.load(fileValues);
  if (center !== undefined) store.load({ center });
  for (const [key, value] of Object.entries(sources.overrides ?? {})) {
    if (!store.has(key as never)) throw new ConfigError(`unknown option for key "${key}"`);
    store.set(key as never, value as never);
  }
  const origins: ValueOrigins = {
    flags: Object.fromEntries(Object.keys(sources.overrides ?? {}).map((key) => [key, flagOf(key)])),
    env,
    keys: center !== undefined ? { center: 'the server file' } : {},
    ...(configFile ? { file: { path: configFile, values: fileValues } } : {}),
  };
  const checked = checkConfig(store as unknown as { get(key: string): unknown }, configSchema);
  const problems = [...unknown, ...checked.map((p) => describe(p, origins))];
  if (problems.length > 0) {
    // The file is named only when a problem is in it (an unknown key, or a value it set).
    const fromFile = configFile && (unknown.length > 0 || checked.some((p) => originOf(p, origins).startsWith('from config file')));
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`, { hint: fromFile ? `config file: ${configFile}` : undefined });
  }
  const config = store.getProperties();
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
