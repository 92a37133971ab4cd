import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from '../shared/errors.js';
import { packageVersion } from '../shared/package-version.js';
import { COMMAND_SPECS, FLAG_TO_KEY, type CommandSpec } from './command-specs.js';

export const DEFAULT_COMMAND = 'sync';

function optionsLine(name: string, spec: CommandSpec['options'][string]): string {
  const flag = `${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.arg ? ` ${spec.arg}` : ''}`;
  return `  ${flag.padEnd(22)} ${spec.doc}`;
}

/** `indexer --help` / `indexer help`. */
export function generalUsage(): string {
  const rows = Object.entries(COMMAND_SPECS).map(([name, s]) => `  ${name.padEnd(14)} ${s.summary}`);
  return `Usage: indexer [command] [options]      (no command: sync)

Commands:
${rows.join('\n')}

Every command accepts --config FILE, --server FILE, --center CODE, --log-level LEVEL, -h/--help;
its other options are listed by \`indexer help <command>\` (or \`indexer <command> --help\`).
  indexer --version      the agent's version
`;
}

/** `indexer help <command>` / `indexer <command> --help`. */
export function commandUsage(name: string): string {
  const spec = COMMAND_SPECS[name]!;
  const options = Object.entries(spec.options).map(([o, s]) => optionsLine(o, s));
  return `Usage: indexer ${name}${spec.operands ? ` ${spec.operands}` : ''} [options]

${spec.summary}
${spec.details ? `\n${spec.details}\n` : ''}
Options:
${options.join('\n')}
`;
}

export type ParsedCommandLine =
  | { kind: 'help'; text: string }
  | { kind: 'version'; text: string }
  | {
    kind: 'run';
    command: string;
    args: string[];
    flags: Record<string, string | boolean | undefined>;
    configFile: string | undefined;
    serverFile: string | undefined;
    overrides: Record<string, string>;
  };

/** Every option any command knows, so a first look finds the command whatever the options' order. */
function allOptions(): ParseArgsConfig['options'] {
  const out: NonNullable<ParseArgsConfig['options']> = { version: { type: 'boolean' } };
  for (const spec of Object.values(COMMAND_SPECS)) {
    for (const [name, o] of Object.entries(spec.options)) out[name] = o.short ? { type: o.type, short: o.short } : { type: o.type };
  }
  return out;
}

function unknownCommand(name: string): ConfigError {
  return new ConfigError(`unknown command "${name}" (expected one of: ${Object.keys(COMMAND_SPECS).join(', ')})`, {
    hint: 'see `indexer --help`',
  });
}

/** Refuses any option the command does not own, naming it and the command. */
function checkOptionsOf(command: string, argv: readonly string[]): void {
  const { tokens } = parseArgs({ args: [...argv], options: allOptions(), strict: false, allowPositionals: true, tokens: true });
  const own = COMMAND_SPECS[command]!.options;
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    if (!(t.name in own)) {
      throw new ConfigError(`${command} does not accept ${t.rawName}`, { hint: `see \`indexer help ${command}\`` });
    }
  }
}

export function parseCommandLine(argv: readonly string[]): ParsedCommandLine {
  const first = parseArgs({ args: [...argv], options: allOptions(), strict: false, allowPositionals: true });
  const positionals = first.positionals;
  if (positionals[0] === 'help') {
    const topic = positionals[1];
    if (topic === undefined) return { kind: 'help', text: generalUsage() };
    if (!(topic in COMMAND_SPECS)) throw unknownCommand(topic);
    return { kind: 'help', text: commandUsage(topic) };
  }
  if (positionals.length === 0 && first.values.version === true) return { kind: 'version', text: `indexer ${packageVersion()}\n` };
  if (positionals.length === 0 && first.values.help === true) return { kind: 'help', text: generalUsage() };
  const command = positionals[0] ?? DEFAULT_COMMAND;
  if (!(command in COMMAND_SPECS)) throw unknownCommand(command);
  checkOptionsOf(command, argv);
  const spec = COMMAND_SPECS[command]!;
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: spec.options as ParseArgsConfig['options'], strict: true, allowPositionals: true });
  } catch (err) {
    throw new ConfigError(`${command}: ${(err as Error).message.split('. ')[0]}`, { hint: `see \`indexer help ${command}\`` });
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help === true) return { kind: 'help', text: commandUsage(command) };
  const args = parsed.positionals.slice(positionals[0] === undefined ? 0 : 1);
  if (args.length > 0 && !spec.operands) {
    throw new ConfigError(`${command} takes no operands (got "${args[0]}")`, { hint: `see \`indexer help ${command}\`` });
  }
  const overrides: Record<string, string> = {};
  for (const [flag, key] of Object.entries(FLAG_TO_KEY)) {
    const value = values[flag];
    if (typeof value === 'string') overrides[key] = value;
  }
  return {
    kind: 'run',
    command,
    args,
    flags: values,
    configFile: values.config as string | undefined,
    serverFile: values.server as string | undefined,
    overrides,
  };
}
