import { readFile } from 'node:fs/promises';
import { contentHash } from '../../../shared/content-hash.js';
import { DatabaseError } from '../../../shared/errors.js';
import type { StudyRecord } from '../../../shared/study-record.js';
import { throwIfStopped } from '../../pipeline/run-pass.js';
import { emptyConversionStats } from '../../record/conversion-stats.js';
import { addToBuckets, dayOf, type DayBucket } from '../../reconcile/day-buckets.js';
import type { ReconcileReader, SourceDays } from '../study-source.js';
import type { OrthancClient } from './orthanc-client.js';
import { writeFileAtomic } from '../file-state/json-state-file.js';
import type { StateFile } from './state-file.js';
import type { StudyIndex } from './study-index.js';
import { readStudies } from './study-reads.js';

export interface OrthancReconcileDeps {
  client: OrthancClient;
  center: string;
  concurrency: number;
  index: StudyIndex;
  state: StateFile;
  /** Where the last report is kept (beside the state file). */
  reportPath: string;
  /** A version above version_high and `floor`, stored in the state file first. */
  allocate(floor: number): Promise<number>;
}

/** The last reconcile report, or null when there is none (or it cannot be read). */
export async function readReconcileReport(path: string): Promise<unknown> {
  return readFile(path, 'utf8').then((t) => JSON.parse(t) as unknown, () => null);
}

/**
 * Orthanc's side of `indexer reconcile` (docs/orthanc.md): the day buckets from one walk of the
 * study list, each study read as sync reads it (study, then its series: the record's counts and
 * modalities come from the series). A day is read again from the IDs the walk filed under it
 * plus /tools/find on StudyDate (studies dated there since); "undated" from the walk alone.
 */
export class OrthancReconcile implements ReconcileReader {
  /** The walk's Orthanc IDs per day: the list's own strings, so little memory beyond the list. */
  private idsByDay = new Map<string, string[]>();

  constructor(private readonly deps: OrthancReconcileDeps) {}

  async scanDays(chunk: number, signal: AbortSignal): Promise<SourceDays> {
    const { client, center, concurrency } = this.deps;
    const ids = (await client.studyIds()).sort();
    const buckets = new Map<string, DayBucket>();
    const byDay = new Map<string, string[]>();
    const stats = emptyConversionStats();
    let studies = 0;
    for (let i = 0; i < ids.length; i += chunk) {
      throwIfStopped(signal);
      const reads = await readStudies(client, ids.slice(i, i + chunk), center, 0, stats, concurrency);
      for (const { id, record } of reads.live) {
        const day = dayOf(record);
        const list = byDay.get(day);
        if (list) list.push(id);
        else byDay.set(day, [id]);
        addToBuckets(buckets, day, contentHash(record));
        studies += 1;
      }
    }
    this.idsByDay = byDay;
    return { buckets, studies };
  }

  async readDay(day: string, version: number, chunk: number): Promise<StudyRecord[]> {
    const ids = new Set(this.idsByDay.get(day) ?? []);
    if (day !== 'undated') for (const id of await this.deps.client.studiesOfDay(day)) ids.add(id);
    return this.read([...ids].sort(), version, chunk);
  }

  async readByIuids(iuids: readonly string[], version: number, chunk: number): Promise<StudyRecord[]> {
    const ids = new Set<string>();
    for (const iuid of iuids) for (const id of await this.deps.client.studiesWithUid(iuid)) ids.add(id);
    return this.read([...ids].sort(), version, chunk);
  }

  /**
   * One record per study_iuid (Orthanc keys a study by PatientID + StudyInstanceUID: the first
   * in ID order wins). A repairing read (version > 0) remembers the studies in the study index
   * before they are sent, so a later deletion of one of them is found, as sync does.
   */
  private async read(ids: readonly string[], version: number, chunk: number): Promise<StudyRecord[]> {
    const { client, center, concurrency, index } = this.deps;
    const byIuid = new Map<string, { id: string; record: StudyRecord }>();
    for (let i = 0; i < ids.length; i += chunk) {
      const reads = await readStudies(client, ids.slice(i, i + chunk), center, version, emptyConversionStats(), concurrency);
      for (const s of reads.live) if (!byIuid.has(s.record.study_iuid)) byIuid.set(s.record.study_iuid, s);
    }
    const live = [...byIuid.values()];
    if (version > 0) index.remember(live.map((s) => ({ id: s.id, iuid: s.record.study_iuid })));
    return live.map((s) => s.record);
  }

  allocateVersionAbove(floor: number): Promise<number> {
    return this.deps.allocate(floor);
  }

  /**
   * A change log that restarted below the acknowledged position (a replaced or restored Orthanc
   * database, which sync refuses with CHANGE_LOG_RESET) is adopted once a repairing reconcile that
   * began after it succeeded: everything before its start has been compared and re-sent.
   */
  async beginRepair(): Promise<() => Promise<Record<string, unknown> | null>> {
    const last = await this.deps.client.lastChange();
    const acked = this.deps.state.state.since;
    // A mark set (renewed: a new token) after this start stays for the next reconcile.
    const seen = this.deps.state.state.reconcile_needed?.token ?? null;
    return async () => {
      const reset = acked > last;
      const cleared = seen !== null && this.deps.state.state.reconcile_needed?.token === seen;
      if (!reset && !cleared) return null;
      const why = this.deps.state.state.reconcile_needed?.why;
      await this.deps.state.update((s) => {
        if (reset) s.since = last;
        if (cleared) s.reconcile_needed = null;
      });
      return { ...(reset ? { change_log_end: last, acked } : {}), ...(cleared ? { reconcile_needed_cleared: why } : {}) };
    };
  }

  async recordReconcile(report: object): Promise<void> {
    try {
      await writeFileAtomic(this.deps.reportPath, `${JSON.stringify(report)}\n`);
    } catch (cause) {
      throw new DatabaseError('STATE_FILE_IO', `cannot write the reconcile report ${this.deps.reportPath}`, { cause });
    }
  }
}
