import type { CommandContext } from '../command-context.js';
import type { Logger } from '../../shared/logger.js';
import type { AgentConfig } from '../config.js';
import type { StudySource } from './study-source.js';

/** One line of `indexer check`. */
export interface CheckLine {
  ok: boolean;
  /** Informational: reported, never a failure. */
  warn?: boolean;
  text: string;
  /** Exit code of this failure's family. */
  exit?: number;
}

/** One pass at a time per source; `lost` aborts when the source dropped the lock under the pass. */
export interface PassLock {
  lost?: AbortSignal;
  release(): Promise<void>;
}

/**
 * How the studies are opened: `pass` under the pass lock (checkpoints, versions, dead letters may
 * be written); `read` without it (status, queue, listings, a reconcile dry run), so nothing the
 * passes own is rewritten.
 */
export type OpenMode = 'pass' | 'read';

/** What a source may use from its command: the logger, and the stop signal its long reads give up at. */
export interface SourceEnv {
  log: Logger;
  signal?: AbortSignal;
}

/**
 * Everything the agent knows about one kind of PACS, in its folder under src/agent/sources/.
 * Commands and the runtime reach a source only through this object (sources/registry.ts maps
 * the configured `source` to it), so a new source is one folder and one registry line.
 */
export interface SourcePlugin {
  /** The value of the `source` setting that selects it. */
  readonly name: string;
  /** The studies, their changes and the agent's state at the source; fails clearly when not installed. */
  open(config: AgentConfig, mode: OpenMode, env: SourceEnv): Promise<StudySource>;
  lock(config: AgentConfig): Promise<PassLock>;
  /** `indexer install [--print]`: writes what it did (or the SQL) to ctx.stdout. */
  install(ctx: CommandContext): Promise<void>;
  uninstall(ctx: CommandContext): Promise<void>;
  /** The source's lines of `indexer check` (reachability, capture, state); never throws. */
  checkLines(ctx: CommandContext): Promise<CheckLine[]>;
  /** Where the source is, for `indexer status` (`database`: the PACS database's name, if any). */
  statusTarget(config: AgentConfig): { database: string | null };
}
