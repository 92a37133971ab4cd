import { parseArgs } from 'node:util';
import { ConfigError } from '../shared/errors.js';

export const USAGE = `Usage: indexer-receiver <command> [options]

Commands:
  migrate                                create or upgrade the receiver's tables
  serve                                  serve the API until SIGTERM
  centers add CODE [--name N] [--key K]  register a centre; prints its write key last
  centers rotate-key CODE [--key K]      give a centre a new key (the old one stops working); prints it last
  centers disable CODE | enable CODE     refuse or accept a centre's key
  centers list                           centres as JSON lines
  tokens add NAME [--token T]            create a read token; prints it last
  tokens revoke NAME                     revoke a read token
  audit [--since ISO-DATE]               the read audit as JSON lines, oldest first

Environment:
  RECEIVER_DATABASE_URL  mysql://user:pass@host:port/database (required)
  RECEIVER_HOST, RECEIVER_PORT           listen address (127.0.0.1:8080)
  RECEIVER_TLS_CERT, RECEIVER_TLS_KEY    PEM files: serve HTTPS
  RECEIVER_BODY_LIMIT, RECEIVER_DECOMPRESSED_LIMIT, RECEIVER_MAX_RECORDS, RECEIVER_RATE_LIMIT,
  RECEIVER_DB_POOL_SIZE, RECEIVER_LOG_LEVEL
`;

export type CommandName =
  | 'migrate' | 'serve' | 'centers add' | 'centers rotate-key' | 'centers disable' | 'centers enable' | 'centers list'
  | 'tokens add' | 'tokens revoke' | 'audit';

export interface ReceiverCommandLine {
  command: CommandName | 'help';
  /** The CODE or NAME operand. */
  target: string | undefined;
  name: string | undefined;
  key: string | undefined;
  token: string | undefined;
  since: string | undefined;
}

const WITH_TARGET = new Set(['centers add', 'centers rotate-key', 'centers disable', 'centers enable', 'tokens add', 'tokens revoke']);
const KNOWN = new Set([...WITH_TARGET, 'migrate', 'serve', 'centers list', 'audit']);

export function parseCommandLine(argv: string[]): ReceiverCommandLine {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        name: { type: 'string' },
        key: { type: 'string' },
        token: { type: 'string' },
        since: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const { values, positionals } = parsed;
  const base = { name: values.name, key: values.key, token: values.token, since: values.since };
  if (values.help || positionals.length === 0) return { command: 'help', target: undefined, ...base };
  const group = positionals[0]!;
  const command = group === 'centers' || group === 'tokens' ? `${group} ${positionals[1] ?? ''}` : group;
  if (!KNOWN.has(command)) throw new ConfigError(`unknown command: ${positionals.slice(0, 2).join(' ')}`);
  const operands = positionals.slice(command.includes(' ') ? 2 : 1);
  const expected = WITH_TARGET.has(command) ? 1 : 0;
  if (operands.length !== expected) {
    throw new ConfigError(`${command} expects ${expected === 1 ? 'one operand' : 'no operands'}`);
  }
  return { command: command as CommandName, target: operands[0], ...base };
}
