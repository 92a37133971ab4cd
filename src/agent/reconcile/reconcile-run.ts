import type { Logger } from '../../shared/logger.js';
import type { StudyRecord } from '../../shared/study-record.js';
import type { Delivery, RejectedRecord } from '../delivery/delivery.js';
import type { PacsPool } from '../pacs/pacs-db.js';
import { readStudiesByIuid, readStudiesByPkChunked, readStudiesOfDay } from '../pacs/reconcile-reader.js';
import { STATE, allocateVersion, writeState } from '../pacs/state-store.js';
import { throwIfStopped } from '../pipeline/run-pass.js';
import { emptyConversionStats, mapStudyRow, tombstoneRecord, type StudyRow } from '../record/study-mapper.js';
import { compareDays, dayOf, receivableDay } from './day-buckets.js';
import { diffDay } from './day-diff.js';
import type { ReconcileClient } from './reconcile-client.js';
import { addDelivery, DIFFERING_DAYS_SHOWN, type ReconcileReport } from './reconcile-report.js';
import { scanSource } from './source-scan.js';

export interface ReconcileDeps {
  pool: PacsPool;
  client: ReconcileClient;
  /** null for --dry-run: nothing is sent, no version is allocated. */
  delivery: Delivery | null;
  writeDeadLetters(rejected: readonly RejectedRecord[]): Promise<void>;
  log: Logger;
  signal: AbortSignal;
  center: string;
  /** Rows per PACS read and records per delivery round (read_chunk). */
  readChunk: number;
}

/**
 * A version above everything this agent sent (allocateVersion) and above what the receiver holds
 * for the day: after a source-side restore, version_high is older than the receiver's records,
 * and a re-send below them would be ignored as stale. Stored first, like every allocation.
 */
export async function allocateVersionAbove(pool: PacsPool, floor: number): Promise<number> {
  const version = await allocateVersion(pool);
  if (version > floor) return version;
  await writeState(pool, STATE.versionHigh, floor + 1);
  return floor + 1;
}

function mapRows(rows: readonly StudyRow[], center: string, version: number): StudyRecord[] {
  const stats = emptyConversionStats();
  const out: StudyRecord[] = [];
  for (const row of rows) {
    const r = mapStudyRow(row, center, version, stats);
    if (r) out.push(r);
  }
  return out;
}

/** Sends repairs in rounds of readChunk records; rejected ones become dead letters, as in sync. */
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
    const { delivery, signal, log } = this.deps;
    if (!delivery || this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const result = await delivery.send(batch, signal);
    if (result.rejected.length > 0) {
      log.warn({ rejected: result.rejected.length }, 'receiver rejected repaired records: kept as dead letters');
      await this.deps.writeDeadLetters(result.rejected);
    }
    addDelivery(this.report, result);
  }
}

/**
 * One differing day: the receiver's studies of the day against the source's, read again now.
 * The version is allocated before the source is read, so any later change (queued by a
 * trigger) is sent by the next sync with a higher one.
 */
async function reconcileDay(
  deps: ReconcileDeps, day: string, undatedPks: readonly number[], sender: RepairSender, report: ReconcileReport, centreFloor: number,
): Promise<void> {
  const { pool, center, readChunk, signal } = deps;
  const held = await deps.client.studies(day, signal);
  const floor = held.reduce((m, s) => Math.max(m, s.source_seq), centreFloor);
  const version = deps.delivery ? await allocateVersionAbove(pool, floor) : 0;
  const rows = day === 'undated' ? await readStudiesByPkChunked(pool, undatedPks, readChunk) : await readStudiesOfDay(pool, day, readChunk);
  const diff = diffDay(mapRows(rows, center, version).filter((r) => dayOf(r) === day), held);
  // Absent here but present elsewhere: a corrected date. Its new day differs too and re-sends it.
  const elsewhere = new Set(mapRows(await readStudiesByIuid(pool, diff.absent, readChunk), center, version).map((r) => r.study_iuid));
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
  const scan = await scanSource(deps.pool, deps.center, deps.readChunk, signal);
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
    await reconcileDay(deps, day, scan.undatedPks, sender, report, centreFloor);
  }
  await sender.flush();
}
