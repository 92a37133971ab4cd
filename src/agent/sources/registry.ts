import { ConfigError } from '../../shared/errors.js';
import type { AgentConfig } from '../config.js';
import { dcm4chee } from './dcm4chee/dcm4chee-plugin.js';
import { orthanc } from './orthanc/orthanc-plugin.js';
import type { SourcePlugin } from './source-plugin.js';

/** Every source the agent can read; the one place that names them. */
const SOURCES: readonly SourcePlugin[] = [dcm4chee, orthanc];

export const SOURCE_NAMES: readonly string[] = SOURCES.map((s) => s.name);

/** The plug-in of the configured `source`. */
export function sourcePlugin(config: Pick<AgentConfig, 'source'>): SourcePlugin {
  const plugin = SOURCES.find((s) => s.name === config.source);
  if (!plugin) throw new ConfigError(`key "source" has value ${JSON.stringify(config.source)}, expected one of: ${SOURCE_NAMES.join(', ')}`);
  return plugin;
}
