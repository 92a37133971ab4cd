import { DeliveryError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { Delivery, DeliveryResult } from '../delivery/delivery.js';
import { ABSURD_VERSIONS_HINT } from '../delivery/version-floor.js';
import type { SourceChunk, StudySource } from '../sources/study-source.js';

/**
 * Every record of a chunk carries a version allocated for it just now, above every version this
 * agent allocated before and above the receiver's floor; a re-sent batch (retry, replay after a
 * crash) carries the same version and is "unchanged". So a "stale" answer means the versions went
 * backwards: this change would be dropped. Nothing of the chunk is acknowledged; the pass fails.
 */
function versionsBehind(stale: number, chunk: SourceChunk): DeliveryError {
  const version = chunk.records[0]?.source_seq;
  return new DeliveryError('VERSIONS_BEHIND', `receiver holds newer versions than the agent sent for ${stale} of ${chunk.records.length} records (source_seq ${version}): nothing of this chunk was acknowledged`, {
    hint: 'the agent\'s state at the source (see `indexer status`) was reset or restored and the receiver could not tell its highest version '
      + '(upgrade it: GET /api/v2/centers/{center}/source-seq), or another agent sends as this centre (check center on every host)',
  });
}

/**
 * The receiver refused a version (source_seq) the agent allocated: that is the agent's fault, not
 * the record's; as a dead letter the study would never arrive. Nothing of the chunk is acknowledged.
 */
function versionRefused(count: number, chunk: SourceChunk): DeliveryError {
  return new DeliveryError('VERSIONS_BEHIND', `receiver rejected the version the agent allocated (source_seq ${chunk.records[0]?.source_seq}) for ${count} of ${chunk.records.length} records: nothing of this chunk was acknowledged`, {
    hint: ABSURD_VERSIONS_HINT,
  });
}

const VERSION_REASON = /\bsource_seq\b/;

/**
 * Delivers one chunk and acknowledges it: rejected records go to the dead letters (they count as
 * handled), then the source advances its checkpoint. Nothing is acknowledged if delivery fails.
 */
export async function deliverChunk(
  source: Pick<StudySource, 'writeDeadLetters' | 'removeSupersededDeadLetters'>, delivery: Delivery, chunk: SourceChunk, signal: AbortSignal, log: Logger,
): Promise<DeliveryResult> {
  const result = chunk.records.length > 0 ? await delivery.send(chunk.records, signal) : { stored: 0, unchanged: 0, stale: 0, rejected: [], skipped: 0 };
  if (result.stale > 0) throw versionsBehind(result.stale, chunk);
  const refused = result.rejected.filter((r) => VERSION_REASON.test(r.reason)).length;
  if (refused > 0) throw versionRefused(refused, chunk);
  if (result.rejected.length > 0) {
    log.warn({ rejected: result.rejected.length, position: chunk.position }, 'receiver rejected records: kept as dead letters');
    // Reasons may quote values: below info level only.
    log.debug({ reasons: [...new Set(result.rejected.map((r) => r.reason))].slice(0, 5) }, 'rejection reasons');
    await source.writeDeadLetters(result.rejected);
  }
  // A newer version acknowledged (stored or unchanged) supersedes the study's older dead letter.
  if (source.removeSupersededDeadLetters) {
    const refusedNow = new Set(result.rejected.map((r) => r.record));
    await source.removeSupersededDeadLetters(chunk.records.filter((r) => !refusedNow.has(r)));
  }
  await chunk.ack();
  return result;
}
