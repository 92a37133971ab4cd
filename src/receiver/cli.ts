import { parseArgs, type ParseArgsConfig } from 'node:util';
import { leavesOf, type ConfigLeaf } from '../shared/config-checks.js';
import { ConfigError } from '../shared/errors.js';
import { packageVersion } from '../shared/package-version.js';
import { receiverSchema } from './config-schema.js';

export type CommandName =
  | 'migrate' | 'serve' | 'centers add' | 'centers set' | 'centers rotate-key' | 'centers disable' | 'centers enable' | 'centers list'
  | 'tokens add' | 'tokens revoke' | 'tokens list' | 'audit'
  | 'dicom' | 'dicom-clients add' | 'dicom-clients list' | 'dicom-clients remove';

interface OptionSpec {
  type: 'string' | 'boolean';
  arg?: string;
  doc: string;
}

interface CommandSpec {
  operand?: string;
  summary: string;
  options: Record<string, OptionSpec>;
}

const HELP: Record<string, OptionSpec> = { help: { type: 'boolean', doc: 'this help' } };

/** Every command with exactly the options it accepts: another command's option is refused. */
const SPECS: Record<CommandName, CommandSpec> = {
  migrate: { summary: "create or upgrade the receiver's tables", options: HELP },
  serve: { summary: 'serve the API until SIGTERM', options: HELP },
  'centers add': {
    operand: 'CODE', summary: 'register a centre; prints its write key last',
    options: { ...HELP, name: { type: 'string', arg: 'N', doc: "the centre's name" }, key: { type: 'string', arg: 'K', doc: 'use this key (at least 16 characters) instead of a generated one' } },
  },
  'centers set': {
    operand: 'CODE', summary: "change a centre's name or where its images are retrieved from (an empty value clears it)",
    options: {
      ...HELP,
      name: { type: 'string', arg: 'N', doc: "the centre's name (InstitutionName in DICOMweb answers)" },
      'dicomweb-url': { type: 'string', arg: 'URL', doc: "the centre's own DICOMweb root, e.g. https://pacs.example.org/dicom-web: studies then carry RetrieveURL / a FHIR Endpoint" },
      'retrieve-aet': { type: 'string', arg: 'AET', doc: "the AE title of the centre's PACS (RetrieveAETitle), 1-16 characters" },
    },
  },
  'centers rotate-key': {
    operand: 'CODE', summary: 'give a centre a new key (the old one stops working); prints it last',
    options: { ...HELP, key: { type: 'string', arg: 'K', doc: 'use this key instead of a generated one' } },
  },
  'centers disable': { operand: 'CODE', summary: "refuse a centre's key until `centers enable`", options: HELP },
  'centers enable': { operand: 'CODE', summary: "accept a centre's key again", options: HELP },
  'centers list': { summary: 'centres as JSON lines: code, name, enabled, studies, last contact', options: HELP },
  'tokens add': {
    operand: 'NAME', summary: 'create a read token; prints it last',
    options: { ...HELP, token: { type: 'string', arg: 'T', doc: 'use this token (at least 16 characters) instead of a generated one' } },
  },
  'tokens revoke': { operand: 'NAME', summary: 'revoke a read token', options: HELP },
  'tokens list': { summary: 'read tokens as JSON lines: name, created, revoked (never the token or its hash)', options: HELP },
  audit: { summary: 'the read audit as JSON lines, oldest first', options: { ...HELP, since: { type: 'string', arg: 'ISO-DATE', doc: 'entries at or after this date' } } },
  dicom: { summary: 'serve the DICOM query service alone (C-FIND, C-ECHO; docs/dimse.md) until SIGTERM', options: HELP },
  'dicom-clients add': {
    operand: 'AET', summary: 'let a workstation (its calling AE title) query over DICOM, acting as a read token',
    options: {
      ...HELP,
      token: { type: 'string', arg: 'NAME', doc: 'the read token it acts as (required): the audit names it' },
      host: { type: 'string', arg: 'IP', doc: 'accept this AE title only from this address (IPv4 or IPv6)' },
    },
  },
  'dicom-clients list': { summary: 'listed workstations as JSON lines: aet, token_name, token_active, host, created_at', options: HELP },
  'dicom-clients remove': { operand: 'AET', summary: 'stop accepting a calling AE title', options: HELP },
};

function synopsis(name: CommandName): string {
  const s = SPECS[name];
  const opts = Object.entries(s.options).filter(([o]) => o !== 'help').map(([o, spec]) => `[--${o}${spec.arg ? ` ${spec.arg}` : ''}]`);
  return [name, s.operand, ...opts].filter(Boolean).join(' ');
}

export const USAGE = `Usage: indexer-receiver <command> [options]

Commands:
${(Object.keys(SPECS) as CommandName[]).map((n) => `  ${synopsis(n)}\n      ${SPECS[n].summary}`).join('\n')}

  indexer-receiver help <command>   (or <command> --help): that command's options
  indexer-receiver --version        the receiver's version

Environment:
  RECEIVER_DATABASE_URL  mysql://user:pass@host:port/database (required)
  RECEIVER_HOST, RECEIVER_PORT           listen address (127.0.0.1:8080)
  RECEIVER_TLS_CERT, RECEIVER_TLS_KEY    PEM files: serve HTTPS
  RECEIVER_BODY_LIMIT, RECEIVER_DECOMPRESSED_LIMIT, RECEIVER_MAX_RECORDS, RECEIVER_RATE_LIMIT,
  RECEIVER_DB_POOL_SIZE, RECEIVER_LOG_LEVEL (docs/receiver.md)
  RECEIVER_DICOM_ENABLED, RECEIVER_DICOM_HOST, RECEIVER_DICOM_PORT, RECEIVER_DICOM_AET, …
                                         the DICOM query service (docs/dimse.md)
`;

function defaultOf(leaf: ConfigLeaf): string {
  if (leaf.env === 'RECEIVER_DATABASE_URL') return 'required';
  return leaf.default === null || leaf.default === '' ? 'default: none' : `default: ${String(leaf.default)}`;
}

/** Every variable the schema declares (serve reads them all), with its default and doc. */
function environmentHelp(): string {
  return leavesOf(receiverSchema).map(([, leaf]) => `  ${leaf.env!} (${defaultOf(leaf)})\n      ${leaf.doc}`).join('\n');
}

export function commandUsage(name: CommandName): string {
  const s = SPECS[name];
  const labels = Object.entries(s.options).map(([o, spec]) => [`--${o}${spec.arg ? ` ${spec.arg}` : ''}`, spec.doc] as const);
  const width = Math.max(16, ...labels.map(([label]) => label.length));
  const opts = labels.map(([label, doc]) => `  ${label.padEnd(width)} ${doc}`);
  const env = name === 'serve' || name === 'dicom' ? `\nEnvironment (docs/receiver.md):\n${environmentHelp()}\n` : '';
  return `Usage: indexer-receiver ${synopsis(name)}\n\n${s.summary}\n\nOptions:\n${opts.join('\n')}\n${env}`;
}

export interface ReceiverCommandLine {
  command: CommandName | 'help' | 'version';
  /** What `help` and `version` print. */
  text?: string;
  /** The CODE or NAME operand. */
  target: string | undefined;
  name: string | undefined;
  key: string | undefined;
  token: string | undefined;
  since: string | undefined;
  dicomwebUrl: string | undefined;
  retrieveAet: string | undefined;
  /** dicom-clients add --host. */
  host: string | undefined;
}

const NONE = { target: undefined, name: undefined, key: undefined, token: undefined, since: undefined, dicomwebUrl: undefined, retrieveAet: undefined, host: undefined };

const GROUPS = new Set(['centers', 'tokens', 'dicom-clients']);

function commandOf(words: readonly string[]): { command: CommandName; rest: string[] } {
  const group = words[0]!;
  const command = GROUPS.has(group) ? `${group} ${words[1] ?? ''}`.trim() : group;
  if (!(command in SPECS)) {
    throw new ConfigError(`unknown command: ${words.slice(0, 2).join(' ')}`, { hint: 'see `indexer-receiver --help`' });
  }
  return { command: command as CommandName, rest: words.slice(command.includes(' ') ? 2 : 1) };
}

function allOptions(): ParseArgsConfig['options'] {
  const out: NonNullable<ParseArgsConfig['options']> = { version: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } };
  for (const s of Object.values(SPECS)) for (const [o, spec] of Object.entries(s.options)) out[o] ??= { type: spec.type };
  return out;
}

/** A first, lenient look finds the command; then only its own options are accepted. */
export function parseCommandLine(argv: string[]): ReceiverCommandLine {
  const first = parseArgs({ args: argv, options: allOptions(), strict: false, allowPositionals: true, tokens: true });
  const words = first.positionals;
  if (words[0] === 'help') {
    if (words.length === 1) return { command: 'help', text: USAGE, ...NONE };
    return { command: 'help', text: commandUsage(commandOf(words.slice(1)).command), ...NONE };
  }
  if (words.length === 0) {
    if (first.values.version === true) return { command: 'version', text: `indexer-receiver ${packageVersion()}\n`, ...NONE };
    return { command: 'help', text: USAGE, ...NONE };
  }
  const { command, rest } = commandOf(words);
  const spec = SPECS[command];
  const seen = new Set<string>();
  for (const t of first.tokens) {
    if (t.kind !== 'option') continue;
    if (!(t.name in spec.options) && !(t.name === 'h' && 'help' in spec.options)) {
      throw new ConfigError(`${command} does not accept ${t.rawName}`, { hint: `see \`indexer-receiver help ${command}\`` });
    }
    // Given twice, one value would silently win: which one the operator meant is not ours to guess.
    if (seen.has(t.name)) throw new ConfigError(`${command}: --${t.name} is given more than once`, { hint: 'give each option once' });
    seen.add(t.name);
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: argv, options: { ...spec.options, help: { type: 'boolean', short: 'h' } } as ParseArgsConfig['options'], strict: true, allowPositionals: true }).values;
  } catch (err) {
    throw new ConfigError(`${command}: ${(err as Error).message.split('. ')[0]}`, { hint: `see \`indexer-receiver help ${command}\`` });
  }
  if (values.help === true) return { command: 'help', text: commandUsage(command), ...NONE };
  const expected = spec.operand ? 1 : 0;
  if (rest.length !== expected) {
    throw new ConfigError(`${command} expects ${expected === 1 ? `one operand (${spec.operand})` : 'no operands'}`, { hint: `see \`indexer-receiver help ${command}\`` });
  }
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  return {
    command, target: rest[0], name: str('name'), key: str('key'), token: str('token'), since: str('since'),
    dicomwebUrl: str('dicomweb-url'), retrieveAet: str('retrieve-aet'), host: str('host'),
  };
}
