import { addChunk, type RunSummary } from './run-summary.js';
import { deliverChunk } from './deliver-chunk.js';
import { Progress, type ProgressSink } from './progress.js';
import { passVersionFloor, runPass, throwIfStopped, type PassDeps } from './run-pass.js';
import type { SourceChunk, StudySource } from '../sources/study-source.js';

/**
 * Reads the next chunk ahead. A read that fails while the previous chunk is being delivered
 * must not surface as an unhandled rejection (which kills the process): it is marked handled
 * here and still rethrown where the chunk is awaited.
 */
function prefetch(source: StudySource, limit: number): Promise<SourceChunk | null> {
  const next = source.readInitialChunk(limit);
  next.catch(() => undefined);
  return next;
}

/**
 * The first load: walks every study in read_chunk chunks, reading the next chunk while the
 * previous one is being delivered; each chunk is acknowledged (checkpointed) before the next one
 * is sent, so a crash resumes after the last acknowledged chunk.
 */
export async function runInitialLoad(deps: PassDeps, progressSink: ProgressSink, restart: boolean): Promise<RunSummary> {
  return runPass('initial', deps, async (summary) => {
    const { source, delivery, log, signal } = deps;
    const start = await source.startInitial(restart, passVersionFloor(deps));
    if (start.alreadyDone) {
      log.info({ last_pk: start.from }, 'initial load already complete (use --restart to load everything again)');
      return;
    }
    log.info({ resumed: start.resumed, from_pk: start.from, remaining: start.remaining }, start.resumed ? 'initial load resuming' : 'initial load starting');
    const progress = new Progress(progressSink, start.remaining);
    let next: Promise<SourceChunk | null> = prefetch(source, deps.readChunk);
    try {
      for (;;) {
        const chunk = await next;
        if (!chunk) break;
        throwIfStopped(signal);
        next = prefetch(source, deps.readChunk);
        const result = await deliverChunk(source, delivery, chunk, signal, log);
        addChunk(summary, chunk, result);
        progress.advance(chunk.progress ?? chunk.read);
      }
    } finally {
      // A prefetched chunk nobody will deliver must not surface as an unhandled rejection.
      next.catch(() => undefined);
    }
    progress.finish();
    await source.finishInitial();
  });
}
