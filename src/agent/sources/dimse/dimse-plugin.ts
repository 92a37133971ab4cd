import type { Logger } from '../../../shared/logger.js';
import type { AgentConfig } from '../../config.js';
import { createReconcileClient } from '../../reconcile/reconcile-client.js';
import { acquireStateLock } from '../file-state/state-lock.js';
import type { SourcePlugin } from '../source-plugin.js';
import { dimseCheckLines } from './dimse-check.js';
import { dimseClient, planSettings } from './dimse-settings.js';
import { DimseSource } from './dimse-source.js';
import { openDimseState } from './dimse-state.js';

function receiverFor(config: AgentConfig, log: Logger) {
  return config.protocol === 'v2' && config.url && config.key && config.center ? createReconcileClient(config, log.child({ component: 'receiver-days' })) : null;
}

const NOTHING = "the agent only queries the PACS (C-ECHO, C-FIND): declare its AE title in the PACS (docs/dimse.md)";

/** Any PACS over the DICOM network (C-FIND); the agent's state in a file (docs/dimse.md). */
export const dimse: SourcePlugin = {
  name: 'dimse',
  async open(config, mode, { log, signal }) {
    const d = config.dimse;
    const finder = await dimseClient(d);
    const state = await openDimseState(d.state_file);
    return new DimseSource({
      finder, center: config.center, state, receiver: mode === 'pass' ? receiverFor(config, log) : null, plan: planSettings(d),
      pauseMs: d.pause_ms, maxQueriesPerPass: d.max_queries_per_pass, maxAnswers: d.max_answers,
      deadLetterPath: `${d.state_file}.dead-letters.jsonl`, mode, log, signal,
    });
  },
  lock: (config) => acquireStateLock(config.dimse.state_file),
  async install(ctx) {
    ctx.stdout(`nothing to install for a DICOM network source: ${NOTHING}\n`);
  },
  async uninstall(ctx) {
    ctx.stdout(`nothing to uninstall for a DICOM network source: ${NOTHING}\n`);
  },
  checkLines: (ctx) => dimseCheckLines(ctx.config, ctx.signal),
  statusTarget: () => ({ database: null }),
};
