import { contentHash } from '../../../shared/content-hash.js';
import type { StudyRecord } from '../../../shared/study-record.js';
import { emptyConversionStats } from '../../record/conversion-stats.js';
import { addToBuckets, dayOf, type DayBucket } from '../../reconcile/day-buckets.js';
import { throwIfStopped } from '../../pipeline/run-pass.js';
import type { ReconcileReader, SourceDays } from '../study-source.js';
import type { PacsPool } from './pacs-db.js';
import { adoptQueueGeneration, findQueueReset } from './queue-generation.js';
import { RECONCILE_STATE, readStudiesByIuid, readStudiesByPkChunked, readStudiesOfDay } from './reconcile-reader.js';
import { allocateVersion, writeState } from './state-store.js';
import { clearReconcileMark, parseReconcileMark, readReconcileMarkText } from './reconcile-mark.js';
import { readStudiesAfter } from './study-reader.js';
import { mapStudyRow, type StudyRow } from './study-mapper.js';

type Mapped = <T>(work: () => Promise<T>) => Promise<T>;

/** dcm4chee's side of `indexer reconcile`: range reads on study, the state in indexer_state. */
export class Dcm4cheeReconcile implements ReconcileReader {
  /**
   * Primary keys of the undated studies from the last scan: no DATETIME range finds them again
   * (NULL, zero and impossible dates), so the walk keeps them. Usually few; only pks, to keep memory small.
   */
  private undatedPks: number[] = [];

  constructor(private readonly pool: PacsPool, private readonly center: string, private readonly mapped: Mapped) {}

  private records(rows: readonly StudyRow[], version: number): StudyRecord[] {
    const stats = emptyConversionStats();
    const out: StudyRecord[] = [];
    for (const row of rows) {
      const r = mapStudyRow(row, this.center, version, stats);
      if (r) out.push(r);
    }
    return out;
  }

  /**
   * Walks `study` in primary-key chunks (READ COMMITTED, one chunk in memory at a time), mapping
   * every row exactly as sync does and filing its content hash under its day.
   */
  scanDays(chunk: number, signal: AbortSignal): Promise<SourceDays> {
    return this.mapped(async () => {
      const buckets = new Map<string, DayBucket>();
      const undatedPks: number[] = [];
      const stats = emptyConversionStats();
      let studies = 0;
      let after = 0;
      for (;;) {
        throwIfStopped(signal);
        const rows = await readStudiesAfter(this.pool, after, chunk);
        if (rows.length === 0) break;
        after = Number(rows[rows.length - 1]!.study_pk);
        for (const row of rows) {
          const record = mapStudyRow(row, this.center, 0, stats);
          if (!record) continue;
          studies += 1;
          const day = dayOf(record);
          if (day === 'undated') undatedPks.push(Number(row.study_pk));
          addToBuckets(buckets, day, contentHash(record));
        }
      }
      this.undatedPks = undatedPks;
      return { buckets, studies };
    });
  }

  readDay(day: string, version: number, chunk: number): Promise<StudyRecord[]> {
    return this.mapped(async () => {
      const rows = day === 'undated' ? await readStudiesByPkChunked(this.pool, this.undatedPks, chunk) : await readStudiesOfDay(this.pool, day, chunk);
      return this.records(rows, version);
    });
  }

  readByIuids(iuids: readonly string[], version: number, chunk: number): Promise<StudyRecord[]> {
    return this.mapped(async () => this.records(await readStudiesByIuid(this.pool, iuids, chunk), version));
  }

  /** allocateVersion's rule (above the queue, version_high and `floor`), stored first. */
  allocateVersionAbove(floor: number): Promise<number> {
    return this.mapped(() => allocateVersion(this.pool, floor));
  }

  /**
   * Read before anything is compared: only a queue reset, or a "reconcile needed" mark, from
   * before this start is repaired; a mark set (renewed) meanwhile stays for the next reconcile.
   */
  beginRepair(): Promise<() => Promise<Record<string, unknown> | null>> {
    return this.mapped(async () => {
      const reset = await findQueueReset(this.pool);
      const mark = await readReconcileMarkText(this.pool);
      return () => this.mapped(async () => {
        if (reset) await adoptQueueGeneration(this.pool, reset);
        const cleared = mark !== null && (await clearReconcileMark(this.pool, mark));
        if (!reset && !cleared) return null;
        return {
          ...(reset ? { queue_reset: { counter: reset.counter, acked: reset.acked } } : {}),
          ...(cleared ? { reconcile_needed_cleared: parseReconcileMark(mark)?.why } : {}),
        };
      });
    });
  }

  recordReconcile(report: object): Promise<void> {
    return this.mapped(() => writeState(this.pool, RECONCILE_STATE, JSON.stringify(report)));
  }
}
