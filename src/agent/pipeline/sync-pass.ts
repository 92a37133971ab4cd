import { addChunk, type RunSummary } from './run-summary.js';
import { deliverChunk } from './deliver-chunk.js';
import { passVersionFloor, runPass, throwIfStopped, type PassDeps } from './run-pass.js';

/**
 * One incremental pass: the changes queued until now, chunk by chunk, each coalesced per study,
 * delivered, then acknowledged. Changes arriving during the pass wait for the next one.
 */
export async function runSyncPass(deps: PassDeps): Promise<RunSummary> {
  return runPass('sync', deps, async (summary) => {
    const { source, delivery, log, signal } = deps;
    await source.startSync(passVersionFloor(deps));
    for (;;) {
      throwIfStopped(signal);
      const chunk = await source.readChangeChunk(deps.readChunk);
      if (!chunk) break;
      const result = await deliverChunk(source, delivery, chunk, signal, log);
      addChunk(summary, chunk, result);
    }
  });
}
