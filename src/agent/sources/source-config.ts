import type { ConfigTree } from '../../shared/config-checks.js';

/**
 * A source's part of the agent's configuration, in its folder beside its plug-in: its own
 * sections of the schema, and how the shared keys mention it. It imports only formats and types,
 * so the schema (and the AgentConfig type the plug-ins use) is composed without the plug-ins.
 */
export interface SourceConfig<S extends ConfigTree = ConfigTree> {
  /** The value of the `source` setting that selects it (the plug-in's name). */
  readonly name: string;
  /** How the `source` key's doc describes it, e.g. '"x" (what it is)'. */
  readonly label: string;
  /** Its own top-level sections of the schema. */
  readonly schema: S;
  /** The key its sections follow in the schema (the order of the docs and of `indexer config`). */
  readonly after: string;
  /** What a shared key also does for this source, added to that key's doc as "(also …)". */
  readonly notes?: Readonly<Record<string, string>>;
  /** Its secrets that may come from files: VAR_FILE → VAR (VAR_FILE wins). */
  readonly secretFiles?: Readonly<Record<string, string>>;
}
