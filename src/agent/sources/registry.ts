import { ConfigError } from '../../shared/errors.js';
import type { AgentConfig } from '../config.js';
import { SOURCE_NAMES } from '../config-schema.js';
import { dcm4chee } from './dcm4chee/dcm4chee-plugin.js';
import { dimse } from './dimse/dimse-plugin.js';
import { orthanc } from './orthanc/orthanc-plugin.js';
import type { SourcePlugin } from './source-plugin.js';

/**
 * Every source the agent can read; with source-configs.ts (their configuration, in the same
 * order), the one place that names them.
 */
const SOURCES: readonly SourcePlugin[] = [dcm4chee, orthanc, dimse];

if (SOURCES.map((s) => s.name).join() !== SOURCE_NAMES.join()) {
  throw new Error(`source plug-ins (${SOURCES.map((s) => s.name).join(', ')}) and configurations (${SOURCE_NAMES.join(', ')}) differ`);
}

export { SOURCE_NAMES };

/** The plug-in of the configured `source`. */
export function sourcePlugin(config: Pick<AgentConfig, 'source'>): SourcePlugin {
  const plugin = SOURCES.find((s) => s.name === config.source);
  if (!plugin) throw new ConfigError(`key "source" has value ${JSON.stringify(config.source)}, expected one of: ${SOURCE_NAMES.join(', ')}`);
  return plugin;
}
