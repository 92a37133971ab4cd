import { dcm4cheeConfig } from './dcm4chee/dcm4chee-config.js';
import { dimseConfig } from './dimse/dimse-config.js';
import { orthancConfig } from './orthanc/orthanc-config.js';

/**
 * Every source's part of the configuration, in the registry's order (the first is the default
 * `source`). Kept apart from registry.ts, which imports the plug-ins: the plug-ins use the
 * AgentConfig type composed from these, so importing them here would close a circle.
 */
export const SOURCE_CONFIGS = [dcm4cheeConfig, orthancConfig, dimseConfig] as const;
