import convict from 'convict';

/**
 * The one way both programs declare and check configuration: a convict schema (doc, default,
 * environment variable per key) whose formats are named specs registered here. convict merges
 * defaults, files and environment and coerces strings; checkConfig then checks every key and
 * returns every problem at once, as data (key, variable, value, what was expected), so callers
 * word them without parsing convict's messages. The value type is derived from the schema (ConfigOf).
 */

/** What is wrong with a value: what was expected, and optionally what it does that it must not. */
export type Refusal = string | { reason: string; expected: string };

export interface FormatSpec {
  /** For the documentation: what a valid value is. */
  expected: string;
  /** null when the value is valid. */
  check(value: unknown): Refusal | null;
  /** Strings from the environment (and legacy files) into the value's type; convict applies it. */
  coerce?(value: string): unknown;
}

export interface ConfigLeaf {
  doc: string;
  format: string | readonly string[];
  default: unknown;
  env?: string;
  nullable?: boolean;
  sensitive?: boolean;
}

export interface ConfigTree {
  [key: string]: ConfigLeaf | ConfigTree;
}

type Widen<T> = T extends string ? string : T extends number ? number : T extends boolean ? boolean : T;

/** The configuration value a schema describes: an enum format gives its literals, else the default's type. */
export type ConfigOf<S> = {
  -readonly [K in keyof S]: S[K] extends { format: readonly (infer E extends string)[] }
    ? E
    : S[K] extends { default: infer D } ? Widen<D> : ConfigOf<S[K]>;
};

export interface ConfigProblem {
  key: string;
  env: string | undefined;
  value: unknown;
  sensitive: boolean;
  expected: string;
  reason: string | undefined;
}

const formats = new Map<string, FormatSpec>();

/** Registers a named format (convict's registry is global: one name, one spec) and returns its name. */
export function defineFormat(name: string, spec: FormatSpec): string {
  if (formats.has(name)) return name;
  formats.set(name, spec);
  convict.addFormat({
    name,
    validate(value: unknown) {
      const refusal = spec.check(value);
      if (refusal !== null) throw new Error(typeof refusal === 'string' ? refusal : refusal.expected);
    },
    ...(spec.coerce ? { coerce: spec.coerce } : {}),
  });
  return name;
}

/** Whole numbers from min to max; numeric strings (environment, legacy files) become numbers. */
export function intFormat(min: number, max: number, noun = 'an integer'): string {
  const expected = `${noun} from ${min} to ${max}`;
  return defineFormat(`${noun}:${min}..${max}`, {
    expected,
    coerce: (v) => (/^\s*-?\d+\s*$/.test(v) ? Number(v) : v),
    check: (v) => (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? null : expected),
  });
}

export const STRING = defineFormat('string', { expected: 'a string', check: (v) => (typeof v === 'string' ? null : 'a string') });
export const ANY = defineFormat('any', { expected: 'anything (ignored)', check: () => null });
export const BOOLEAN = defineFormat('boolean', {
  expected: 'true or false',
  coerce: (v) => ({ true: true, false: false, '1': true, '0': false })[v.trim().toLowerCase()] ?? v,
  check: (v) => (typeof v === 'boolean' ? null : 'true or false'),
});

function isLeaf(node: ConfigLeaf | ConfigTree): node is ConfigLeaf {
  return 'default' in node && 'doc' in node;
}

/** Every key of a schema, dotted, with its declaration, in declaration order. */
export function leavesOf(tree: ConfigTree, prefix = ''): [string, ConfigLeaf][] {
  return Object.entries(tree).flatMap(([name, node]): [string, ConfigLeaf][] => {
    const key = prefix ? `${prefix}.${name}` : name;
    return isLeaf(node) ? [[key, node]] : leavesOf(node, key);
  });
}

/** What a key accepts, in words (messages and the docs' tables). */
export function expectedOf(leaf: ConfigLeaf): string {
  if (typeof leaf.format !== 'string') return `one of ${leaf.format.join(', ')}`;
  const spec = formats.get(leaf.format);
  if (!spec) throw new Error(`unknown configuration format ${leaf.format}`);
  return spec.expected;
}

function refusalOf(leaf: ConfigLeaf, value: unknown): Refusal | null {
  if (leaf.nullable && value === null) return null;
  if (typeof leaf.format !== 'string') return leaf.format.includes(value as string) ? null : expectedOf(leaf);
  return formats.get(leaf.format)!.check(value);
}

/** Checks every key of a merged convict store: all the problems, none when the configuration is valid. */
export function checkConfig(store: { get(key: string): unknown }, tree: ConfigTree): ConfigProblem[] {
  return leavesOf(tree).flatMap(([key, leaf]) => {
    const value = store.get(key);
    const refusal = refusalOf(leaf, value);
    if (refusal === null) return [];
    const { reason, expected } = typeof refusal === 'string' ? { reason: undefined, expected: refusal } : refusal;
    return [{ key, env: leaf.env, value, sensitive: leaf.sensitive === true, expected, reason }];
  });
}

/** Dotted keys of a loaded file that the schema does not declare. */
export function undeclaredKeys(input: Record<string, unknown>, tree: ConfigTree, prefix = ''): string[] {
  return Object.entries(input).flatMap(([name, value]) => {
    const key = prefix ? `${prefix}.${name}` : name;
    const node = Object.prototype.hasOwnProperty.call(tree, name) ? tree[name] : undefined;
    if (!node) return [key];
    if (isLeaf(node)) return [];
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? undeclaredKeys(value as Record<string, unknown>, node, key) : [key];
  });
}

/** Where the values came from, to name the one a problem's value came from (precedence order). */
export interface ValueOrigins {
  /** Command-line flags: dotted key → the flag as typed (`--batch-size`). */
  flags?: Readonly<Record<string, string>>;
  /** The environment the schema's `env` variables were read from. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Other single-key sources (e.g. the agent's server.json for `center`): key → its description. */
  keys?: Readonly<Record<string, string>>;
  file?: { path: string; values: Record<string, unknown> };
}

function inFile(values: Record<string, unknown>, key: string): boolean {
  let node: unknown = values;
  for (const part of key.split('.')) {
    if (node === null || typeof node !== 'object' || !Object.prototype.hasOwnProperty.call(node, part)) return false;
    node = (node as Record<string, unknown>)[part];
  }
  return true;
}

/**
 * Where a problem's value came from, as a message names it: `from --batch-size`, `from
 * INDEXER_DB_PORT`, `from config file /etc/indexer/config.json`, or `the default`.
 */
export function originOf(problem: Pick<ConfigProblem, 'key' | 'env'>, origins: ValueOrigins): string {
  const flag = origins.flags?.[problem.key];
  if (flag !== undefined) return `from ${flag}`;
  if (problem.env && origins.env?.[problem.env] !== undefined) return `from ${problem.env}`;
  const other = origins.keys?.[problem.key];
  if (other !== undefined) return `from ${other}`;
  if (origins.file && inFile(origins.file.values, problem.key)) return `from config file ${origins.file.path}`;
  return 'the default';
}
