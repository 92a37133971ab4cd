import type { StudyRecord } from '../../../shared/study-record.js';
import type { ConversionStats } from '../../record/conversion-stats.js';
import type { DimseState } from './dimse-state.js';

/** What reading one window gave: records to send (no version yet), studies gone, the state once delivered. */
export interface Outcome {
  records: StudyRecord[];
  /** study_iuids confirmed gone: sent as tombstones. */
  gone: string[];
  /** Progress units (days) it covers. */
  days: number;
  /** Studies the PACS answered for it (sent or not). */
  read: number;
  apply(state: DimseState, at: string): void;
}

/** The crawl or a sync pass: the outcome of its next window, null when it has read all it will. */
export interface WindowWalk {
  next(): Promise<Outcome | null>;
  /** What the records read since the last call held that was unusable. */
  takeStats(): ConversionStats;
}

/** One chunk's share of the queue: the state changes go with the chunk that finishes their outcome. */
export interface Cut {
  records: StudyRecord[];
  gone: string[];
  days: number;
  read: number;
  applies: Outcome['apply'][];
}

/**
 * Outcomes waiting to be sent, cut into chunks of at most `limit` records: a window bigger than
 * a chunk goes out in several, and its state change (the crawl's place, the studies noted
 * missing) is applied only with the last of them, once everything it read is acknowledged.
 */
export class OutcomeQueue {
  private readonly queue: Outcome[] = [];

  get pending(): number {
    return this.queue.reduce((n, o) => n + o.records.length + o.gone.length, 0);
  }

  get empty(): boolean {
    return this.queue.length === 0;
  }

  push(outcome: Outcome): void {
    this.queue.push(outcome);
  }

  cut(limit: number): Cut {
    const out: Cut = { records: [], gone: [], days: 0, read: 0, applies: [] };
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      const room = limit - out.records.length - out.gone.length;
      const size = head.records.length + head.gone.length;
      if (size <= room) {
        out.records.push(...head.records);
        out.gone.push(...head.gone);
        out.days += head.days;
        out.read += head.read;
        out.applies.push(head.apply);
        this.queue.shift();
        continue;
      }
      if (room <= 0) break;
      // The head is bigger than what is left of the chunk: send part of it, keep its state change back.
      const records = head.records.splice(0, room);
      out.records.push(...records);
      out.gone.push(...head.gone.splice(0, room - records.length));
      break;
    }
    return out;
  }
}
