import type { Logger } from '../../shared/logger.js';
import type { Delivery, DeliveryResult } from '../delivery/delivery.js';
import type { SourceChunk, StudySource } from '../source/study-source.js';

/**
 * Delivers one chunk and acknowledges it: rejected records go to the dead letters (they count as
 * handled), then the source advances its checkpoint. Nothing is acknowledged if delivery fails.
 */
export async function deliverChunk(
  source: StudySource, delivery: Delivery, chunk: SourceChunk, signal: AbortSignal, log: Logger,
): Promise<DeliveryResult> {
  const result = chunk.records.length > 0 ? await delivery.send(chunk.records, signal) : { stored: 0, unchanged: 0, stale: 0, rejected: [], skipped: 0 };
  if (result.rejected.length > 0) {
    log.warn({ rejected: result.rejected.length, position: chunk.position }, 'receiver rejected records: kept as dead letters');
    // Reasons may quote values: below info level only.
    log.debug({ reasons: [...new Set(result.rejected.map((r) => r.reason))].slice(0, 5) }, 'rejection reasons');
    await source.writeDeadLetters(result.rejected);
  }
  await chunk.ack();
  return result;
}
