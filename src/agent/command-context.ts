import type { Logger } from '../shared/logger.js';
import type { AgentConfig } from './config.js';

/** What every agent command receives: no command touches process, env or exit codes itself. */
export interface CommandContext {
  config: AgentConfig;
  log: Logger;
  /** Flags of the command line (e.g. restart, print, dry-run), already parsed. */
  flags: Readonly<Record<string, string | boolean | undefined>>;
  /** Positional arguments after the command name. */
  args: readonly string[];
  /** Writes to standard output (JSON of `status`, SQL of `install --print`). */
  stdout: (text: string) => void;
  /** Aborted on SIGTERM/SIGINT: finish or abandon the batch in flight, keep the checkpoint. */
  signal: AbortSignal;
  /** Standard error is a terminal: progress bars instead of JSON progress lines. */
  interactive: boolean;
  /** Standard output is a terminal: human summaries instead of JSON (reconcile, queue, dead-letters). */
  stdoutInteractive?: boolean;
  /** Writes progress (bars) to standard error on a terminal. */
  stderr: (text: string) => void;
}

/** A command returns its exit code (0 when omitted); failures are thrown as IndexerError. */
export type Command = (ctx: CommandContext) => Promise<number | void>;
