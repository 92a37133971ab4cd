import type { Command } from './command-context.js';

/** One option of one command, for parseArgs and for its help text. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Placeholder shown in help for string options. */
  arg?: string;
  doc: string;
}

export interface CommandSpec {
  /** Shown in `indexer help` and as the first line of `indexer help <command>`. */
  summary: string;
  /** Operands after the command name, e.g. "[ID...]"; none accepted when absent. */
  operands?: string;
  /** More text for `indexer help <command>`. */
  details?: string;
  options: Readonly<Record<string, OptionSpec>>;
  load: () => Promise<{ run: Command }>;
}

const COMMON: Record<string, OptionSpec> = {
  config: { type: 'string', arg: 'FILE', doc: 'configuration file (default config/config.json or ./config.json)' },
  server: { type: 'string', arg: 'FILE', doc: 'legacy centre-code file (default ./server.json)' },
  center: { type: 'string', arg: 'CODE', doc: 'centre code' },
  'log-level': { type: 'string', arg: 'LEVEL', doc: 'fatal|error|warn|info|debug|trace|silent' },
  help: { type: 'boolean', short: 'h', doc: 'this help' },
};
const URL_OPTION: Record<string, OptionSpec> = { url: { type: 'string', arg: 'URL', doc: 'receiver base URL' } };
const SENDING: Record<string, OptionSpec> = { ...URL_OPTION, 'batch-size': { type: 'string', arg: 'N', doc: 'records per POST' } };
const SCHEDULE: Record<string, OptionSpec> = { schedule: { type: 'string', arg: 'CRON', doc: 'daemon schedule (5 fields, or 6 with seconds)' } };
const LISTING: Record<string, OptionSpec> = {
  limit: { type: 'string', arg: 'N', doc: 'entries shown, oldest first (default 50)' },
  json: { type: 'boolean', doc: 'JSON even on a terminal (the default when stdout is not one)' },
};

/** Command-line flag → configuration key it overrides. */
export const FLAG_TO_KEY: Readonly<Record<string, string>> = {
  center: 'center',
  url: 'url',
  schedule: 'schedule',
  'batch-size': 'batch_size',
  'log-level': 'log.level',
};

/**
 * Every command with exactly the options it accepts: one command's flag given to another is
 * refused (exit 2), never silently ignored — `uninstall --print` must not run an uninstall.
 */
export const COMMAND_SPECS: Readonly<Record<string, CommandSpec>> = {
  install: {
    summary: 'install or upgrade the capture objects in the PACS database',
    options: { ...COMMON, print: { type: 'boolean', doc: 'write the SQL for a DBA (`mysql pacsdb < file`) instead of installing' } },
    load: () => import('./commands/install.js'),
  },
  uninstall: {
    summary: 'remove the capture objects (triggers first); refuses while changes are queued',
    details: 'Changes still queued are lost with the queue: run `indexer sync` first, or add --force to discard them.\n' +
      'The checkpoints go too: after a later `indexer install`, run `indexer initial` (or `indexer reconcile`).',
    options: { ...COMMON, force: { type: 'boolean', doc: 'uninstall even with changes still queued (they are discarded)' } },
    load: () => import('./commands/uninstall.js'),
  },
  initial: {
    summary: 'first load: every study, resumable',
    options: { ...COMMON, ...SENDING, restart: { type: 'boolean', doc: 'load everything again from the first study' } },
    load: () => import('./commands/initial.js'),
  },
  sync: {
    summary: 'one incremental pass (the default command; what cron runs)',
    options: { ...COMMON, ...SENDING },
    load: () => import('./commands/sync.js'),
  },
  daemon: {
    summary: 'run sync on the configured schedule until SIGTERM',
    options: { ...COMMON, ...SENDING, ...SCHEDULE },
    load: () => import('./commands/daemon.js'),
  },
  check: {
    summary: 'verify database, privileges, capture objects and receiver (exit 0 only if all is well)',
    options: { ...COMMON, ...URL_OPTION },
    load: () => import('./commands/check.js'),
  },
  status: {
    summary: 'JSON on stdout: centre, backlog, positions, last run, last error, dead letters',
    options: COMMON,
    load: () => import('./commands/status.js'),
  },
  queue: {
    summary: 'what is queued for the next sync: counts by kind (I/U/D), oldest age, oldest entries',
    details: 'Entries carry the queue position, study_pk, kind and, for deletions, the study_iuid — no patient data.',
    options: { ...COMMON, ...LISTING },
    load: () => import('./commands/queue.js'),
  },
  'dead-letters': {
    summary: 'records the receiver rejected: list, retry or discard them',
    operands: '[list | retry [ID...] | discard ID...]',
    details: [
      '  list                   the dead letters, oldest first (the default)',
      '  retry [ID...]          re-send them (all, or the given ids) through the normal delivery;',
      '                         each is removed once the receiver acknowledges it, kept (new reason) if refused again',
      '  discard ID... | --all --yes   remove them without sending',
    ].join('\n'),
    options: {
      ...COMMON, ...SENDING, ...LISTING,
      'with-record': { type: 'boolean', doc: 'list: include the stored record (holds patient data)' },
      all: { type: 'boolean', doc: 'discard: every dead letter (needs --yes)' },
      yes: { type: 'boolean', doc: 'discard --all: confirm' },
    },
    load: () => import('./commands/dead-letters.js'),
  },
  reconcile: {
    summary: 'compare with the receiver and repair drift (human summary on a terminal, JSON otherwise)',
    options: { ...COMMON, ...SENDING, 'dry-run': { type: 'boolean', doc: 'only compare and report; send nothing' } },
    load: () => import('./commands/reconcile.js'),
  },
  config: {
    summary: 'print the effective configuration, secrets masked',
    options: { ...COMMON, ...SENDING, ...SCHEDULE },
    load: () => import('./commands/config.js'),
  },
};
