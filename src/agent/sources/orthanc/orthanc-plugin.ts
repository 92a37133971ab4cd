import type { AgentConfig } from '../../config.js';
import type { SourcePlugin } from '../source-plugin.js';
import { orthancCheckLines } from './orthanc-check.js';
import { OrthancClient } from './orthanc-client.js';
import { OrthancSource } from './orthanc-source.js';
import { acquireStateLock } from '../file-state/state-lock.js';

/** The Orthanc REST client of the configuration. */
export function orthancClient(config: AgentConfig): OrthancClient {
  const o = config.orthanc;
  return new OrthancClient({ url: o.url, username: o.username, password: o.password, timeoutMs: config.http.timeout_ms, maxListBytes: o.max_list_bytes });
}

const NOTHING = 'its own change feed is the source';

/** Orthanc: its REST API and change feed; the agent's state in a file (docs/orthanc.md). */
export const orthanc: SourcePlugin = {
  name: 'orthanc',
  open: (config, mode) => OrthancSource.open({
    client: orthancClient(config), center: config.center, stateFile: config.orthanc.state_file, newStudy: config.orthanc.new_study, mode,
  }),
  // A lock file beside the state file.
  lock: (config) => acquireStateLock(config.orthanc.state_file),
  async install(ctx) {
    ctx.stdout(`nothing to install for Orthanc: ${NOTHING}\n`);
  },
  async uninstall(ctx) {
    ctx.stdout(`nothing to uninstall for Orthanc: ${NOTHING}\n`);
  },
  checkLines: (ctx) => orthancCheckLines(orthancClient(ctx.config), ctx.config.orthanc.state_file),
  statusTarget: () => ({ database: null }),
};
