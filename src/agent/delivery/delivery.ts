import type { StudyRecord } from '../../shared/study-record.js';

export interface RejectedRecord {
  record: StudyRecord;
  reason: string;
}

/** What the receiver answered for a set of records; all of them are handled once this resolves. */
export interface DeliveryResult {
  stored: number;
  unchanged: number;
  stale: number;
  rejected: RejectedRecord[];
  /** Records the protocol cannot carry (tombstones under the legacy protocol). */
  skipped: number;
}

/** Sends records to a receiver; resolves only when every record was answered for. */
export interface Delivery {
  send(records: readonly StudyRecord[], signal: AbortSignal): Promise<DeliveryResult>;
  /**
   * The receiver's highest version for this centre, the floor of the agent's versions; null when
   * it holds none or cannot tell (an older receiver). Absent: the protocol cannot ask (legacy).
   */
  versionFloor?(signal: AbortSignal): Promise<number | null>;
  close(): Promise<void>;
}

export function emptyDeliveryResult(): DeliveryResult {
  return { stored: 0, unchanged: 0, stale: 0, rejected: [], skipped: 0 };
}

export function mergeDeliveryResults(into: DeliveryResult, from: DeliveryResult): DeliveryResult {
  into.stored += from.stored;
  into.unchanged += from.unchanged;
  into.stale += from.stale;
  into.skipped += from.skipped;
  into.rejected.push(...from.rejected);
  return into;
}
