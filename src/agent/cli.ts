import { parseArgs } from 'node:util';
import { ConfigError } from '../shared/errors.js';
import type { Command } from './command-context.js';

export const USAGE = `Usage: indexer [command] [options]

Commands:
  install [--print]   install or upgrade the capture objects in the PACS database
                      (--print writes the SQL for a DBA instead)
  uninstall           remove them (triggers first)
  initial [--restart] first load: every study, resumable
  sync                one incremental pass (the default command; what cron runs)
  daemon              run sync on the configured schedule until SIGTERM
  check               verify database, privileges, capture objects and receiver
  status              JSON on stdout: centre, backlog, positions, last run, last error
  reconcile [--dry-run]  compare with the receiver and repair drift
  config              print the effective configuration, secrets masked

Options:
  --config FILE       configuration file (default config/config.json or ./config.json)
  --server FILE       legacy centre-code file (default ./server.json)
  --center CODE       centre code
  --url URL           receiver base URL
  --schedule CRON     daemon schedule
  --batch-size N      records per POST
  --log-level LEVEL   fatal|error|warn|info|debug|trace|silent
  -h, --help          this help
`;

/** Command name → module exporting `run`. Loaded lazily so `indexer --help` starts fast. */
export const COMMANDS: Record<string, () => Promise<{ run: Command }>> = {
  install: () => import('./commands/install.js'),
  uninstall: () => import('./commands/uninstall.js'),
  initial: () => import('./commands/initial.js'),
  sync: () => import('./commands/sync.js'),
  daemon: () => import('./commands/daemon.js'),
  check: () => import('./commands/check.js'),
  status: () => import('./commands/status.js'),
  reconcile: () => import('./commands/reconcile.js'),
  config: () => import('./commands/config.js'),
};

export interface ParsedCommandLine {
  command: string;
  args: string[];
  flags: Record<string, string | boolean | undefined>;
  configFile: string | undefined;
  serverFile: string | undefined;
  overrides: Record<string, string>;
  help: boolean;
}

const FLAG_TO_KEY: Record<string, string> = {
  center: 'center',
  url: 'url',
  schedule: 'schedule',
  'batch-size': 'batch_size',
  'log-level': 'log.level',
};

export function parseCommandLine(argv: readonly string[]): ParsedCommandLine {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        config: { type: 'string' },
        server: { type: 'string' },
        center: { type: 'string' },
        url: { type: 'string' },
        schedule: { type: 'string' },
        'batch-size': { type: 'string' },
        'log-level': { type: 'string' },
        restart: { type: 'boolean' },
        print: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new ConfigError((err as Error).message, { hint: 'see `indexer --help`' });
  }
  const [command = 'sync', ...args] = parsed.positionals;
  const help = parsed.values.help === true;
  if (!help && !(command in COMMANDS)) {
    throw new ConfigError(`unknown command "${command}" (expected one of: ${Object.keys(COMMANDS).join(', ')})`);
  }
  const overrides: Record<string, string> = {};
  for (const [flag, key] of Object.entries(FLAG_TO_KEY)) {
    const value = parsed.values[flag as keyof typeof parsed.values];
    if (typeof value === 'string') overrides[key] = value;
  }
  return {
    command,
    args,
    flags: parsed.values,
    configFile: parsed.values.config,
    serverFile: parsed.values.server,
    overrides,
    help,
  };
}
