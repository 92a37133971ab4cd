import type { Logger } from '../../shared/logger.js';
import type { StudyRecord } from '../../shared/study-record.js';
import type { Delivery } from '../delivery/delivery.js';
import { deliverChunk } from '../pipeline/deliver-chunk.js';
import { throwIfStopped } from '../pipeline/run-pass.js';
import { emptyConversionStats } from '../record/conversion-stats.js';
import { tombstoneRecord } from '../record/tombstone-record.js';
import type { ReconcileReader, StudySource } from '../sources/study-source.js';
import { compareDays, dayOf, receivableDay } from './day-buckets.js';
import { diffDay } from './day-diff.js';
import type { ReconcileClient } from './reconcile-client.js';
import { addDelivery, DIFFERING_DAYS_SHOWN, type ReconcileReport } from './reconcile-report.js';

export interface ReconcileDeps {
  /** The source's reconcile capability; `source` keeps the dead letters. */
  reader: ReconcileReader;
  source: Pick<StudySource, 'writeDeadLetters' | 'removeSupersededDeadLetters'>;
  client: ReconcileClient;
  /** null for --dry-run: nothing is sent, no version is allocated. */
  delivery: Delivery | null;
  log: Logger;
  signal: AbortSignal;
  center: string;
  /** Studies per source read and records per delivery round (read_chunk). */
  readChunk: number;
}

/**
 * Sends repairs in rounds of readChunk records, each round as a chunk of the pipeline
 * (deliverChunk: rejected records become dead letters, a stale answer fails the run). A repair
 * has nothing to acknowledge at the source: the versions were stored when allocated.
 */
class RepairSender {
  private pending: StudyRecord[] = [];

  constructor(private readonly deps: ReconcileDeps, private readonly report: ReconcileReport) {}

  async add(records: readonly StudyRecord[]): Promise<void> {
    for (const r of records) {
      this.pending.push(r);
      if (r.deleted) this.report.tombstones += 1;
      else this.report.resent += 1;
    }
    if (this.pending.length >= this.deps.readChunk) await this.flush();
  }

  async flush(): Promise<void> {
    const { delivery, signal, log, source } = this.deps;
    if (!delivery || this.pending.length === 0) return;
    const records = this.pending;
    this.pending = [];
    const chunk = {
      records, read: records.length, tombstones: records.filter((r) => r.deleted).length, stats: emptyConversionStats(), position: 0,
      ack: async () => undefined,
    };
    addDelivery(this.report, await deliverChunk(source, delivery, chunk, signal, log));
  }
}

/**
 * One differing day: the receiver's studies of the day against the source's, read again now.
 * The version is allocated before the source is read, so any later change is sent by the next
 * sync with a higher one.
 */
async function reconcileDay(deps: ReconcileDeps, day: string, sender: RepairSender, report: ReconcileReport, centreFloor: number): Promise<void> {
  const { reader, center, readChunk, signal } = deps;
  const held = await deps.client.studies(day, signal);
  const floor = held.reduce((m, s) => Math.max(m, s.source_seq), centreFloor);
  const version = deps.delivery ? await reader.allocateVersionAbove(floor) : 0;
  // The day is checked again on the mapped record: an impossible date such as 2020-02-31 sorts
  // inside a neighbouring range at the source but is "undated" in the record.
  const diff = diffDay((await reader.readDay(day, version, readChunk)).filter((r) => dayOf(r) === day), held);
  // Absent here but present elsewhere: a corrected date. Its new day differs too and re-sends it.
  const elsewhere = new Set((await reader.readByIuids(diff.absent, version, readChunk)).map((r) => r.study_iuid));
  const gone = diff.absent.filter((iuid) => !elsewhere.has(iuid));
  report.missing += diff.missing.length;
  report.different += diff.different.length;
  report.moved += diff.absent.length - gone.length;
  report.extra += gone.length;
  if (deps.delivery) {
    await sender.add([...diff.missing, ...diff.different, ...gone.map((iuid) => tombstoneRecord(center, iuid, null, version))]);
  }
}

/**
 * Compares the centre's studies with the receiver's, day by day, and repairs the differing days:
 * first the receiver's per-day counts and digests against one walk of the source (buckets only),
 * then, for the differing days alone, study by study.
 */
export async function reconcile(deps: ReconcileDeps, report: ReconcileReport): Promise<void> {
  const { log, signal } = deps;
  const theirs = await deps.client.days(signal);
  report.receiver_studies = theirs.reduce((n, d) => n + d.count, 0);
  const scan = await deps.reader.scanDays(deps.readChunk, signal);
  report.source_studies = scan.studies;
  const { compared, differing: all } = compareDays(scan.buckets, theirs);
  const differing = all.filter(receivableDay);
  report.days_compared = compared;
  report.days_differing = differing.length;
  report.days_skipped = all.length - differing.length;
  report.differing_days = differing.slice(0, DIFFERING_DAYS_SHOWN);
  log.info({ days_compared: compared, days_differing: differing.length, days_skipped: report.days_skipped, source_studies: scan.studies, receiver_studies: report.receiver_studies }, 'reconcile compared days');
  const sender = new RepairSender(deps, report);
  // Above the centre's highest version, not only the day's: a study moved from another day holds
  // a version there (docs/design.md, "Version floor").
  const centreFloor = deps.delivery?.versionFloor && differing.length > 0 ? ((await deps.delivery.versionFloor(signal)) ?? 0) : 0;
  for (const day of differing) {
    throwIfStopped(signal);
    await reconcileDay(deps, day, sender, report, centreFloor);
  }
  await sender.flush();
}
