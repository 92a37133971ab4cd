import type { StudyRecord } from '../../shared/study-record.js';
import type { RejectedRecord } from '../delivery/delivery.js';
import type { ConversionStats } from '../record/conversion-stats.js';
import type { DayBucket } from '../reconcile/day-buckets.js';
import type { CaptureHealth, ReconcileMark } from './source-health.js';

export type { ReconcileMark } from './source-health.js';

/**
 * What the pipeline needs from a PACS, so that every source (a change queue fed by triggers, a
 * change feed with a state file, ...) shares one pipeline. Every chunk already
 * carries its allocated version (source_seq); `ack` is called once the receiver answered for
 * every record of the chunk, in the order the chunks were read.
 */
export interface SourceChunk {
  records: StudyRecord[];
  /** Changes (queue rows) or studies this chunk consumed. */
  read: number;
  tombstones: number;
  stats: ConversionStats;
  /** The position reached, for progress and logs (queue seq or study pk). */
  position: number;
  /** Studies read that carry no usable study_iuid (counted in stats.missing_iuid), by primary key. */
  unidentified?: number[];
  /** Progress this chunk makes in InitialStart's unit (default: `read`). */
  progress?: number;
  ack(): Promise<void>;
}

/**
 * The receiver's highest version for the centre (null: it holds none or cannot tell), asked at
 * most once per pass, right before the pass allocates its first version: every version of the
 * pass is allocated above it (docs/design.md, "Version floor"). An idle pass never asks.
 */
export type VersionFloor = () => Promise<number | null>;

export interface InitialStart {
  resumed: boolean;
  alreadyDone: boolean;
  /** Studies left to read (for the progress bar), or days where the source counts days. */
  remaining: number;
  /** Position where the walk (re)starts. */
  from: number;
}

export interface SourceStatus {
  backlog: number | null;
  last_ack_seq: number | null;
  version_high: number | null;
  last_run: unknown;
  last_error: unknown;
  dead_letters: number | null;
  /** The last `indexer reconcile` report, if any. */
  last_reconcile?: unknown;
  /**
   * Studies the source holds without a study_iuid: never sent (a few primary keys shown); null
   * when the source cannot count them without reading every study (Orthanc).
   */
  missing_iuid?: { count: number; study_pks: number[] } | null;
  /** Set while changes may be missing at the receiver, until a repairing reconcile (docs/reconcile.md). */
  reconcile_needed?: ReconcileMark | null;
  initial: { done: boolean; last_pk: number | null; start_seq: number | null; started_at: string | null; total: number | null };
  /** What only this source can tell (a crawled source: its place, its sweeps, the days not read completely). */
  detail?: Record<string, unknown>;
}

/** A queued change as `indexer queue` shows it: identifiers only, no patient data. */
export interface QueuedChange {
  seq: number;
  study_pk: number;
  op: string;
  study_iuid: string | null;
  queued_at: string | null;
}

export interface QueueReport {
  total: number;
  by_kind: Record<string, number>;
  oldest_queued_at: string | null;
  oldest_age_s: number | null;
  /** The oldest entries, oldest first. */
  entries: QueuedChange[];
}

export interface DeadLetterEntry {
  id: number;
  study_iuid: string | null;
  source_seq: number;
  reason: string;
  created_at: string;
  /** Only when asked for (it holds patient data). */
  record?: StudyRecord | null;
}

/**
 * Dead letters kept by a source, for `indexer dead-letters`. Ids are the source's own; callers
 * that change them (retry, discard) hold the pass lock.
 */
export interface DeadLetterStore {
  listDeadLetters(opts: { afterId?: number; limit: number; ids?: readonly number[]; withRecord?: boolean }): Promise<{ total: number; entries: DeadLetterEntry[] }>;
  removeDeadLetters(ids: readonly number[] | 'all'): Promise<number>;
  /** Records a new rejection reason for a dead letter refused again. */
  updateDeadLetterReason(id: number, reason: string): Promise<void>;
}

/** The source side of reconcile's comparison, from one walk of every live study. */
export interface SourceDays {
  /** Per day (dayOf): how many live studies and the XOR of their content-hash digests. */
  buckets: Map<string, DayBucket>;
  studies: number;
}

/**
 * The optional capability `indexer reconcile` needs (docs/reconcile.md). Records are mapped
 * exactly as sync maps them, so their content hashes compare with the receiver's. Called in
 * order: scanDays once, then per differing day allocateVersionAbove, readDay, readByIuids.
 */
export interface ReconcileReader {
  /** Walks every live study in chunks of `chunk`, filing its content hash under its day. */
  scanDays(chunk: number, signal: AbortSignal): Promise<SourceDays>;
  /** The live studies of `day` ("undated" included), read again now, carrying `version`. */
  readDay(day: string, version: number, chunk: number): Promise<StudyRecord[]>;
  /** The live studies carrying one of these iuids, on any day. */
  readByIuids(iuids: readonly string[], version: number, chunk: number): Promise<StudyRecord[]>;
  /** A version above every one allocated before and above `floor`, stored before it is used. */
  allocateVersionAbove(floor: number): Promise<number>;
  /**
   * A repairing run calls this before comparing; the function it returns runs once the repair
   * succeeded (e.g. adopting a change queue reset before the start, clearing the "reconcile
   * needed" mark seen at the start). Returns what it did, or null.
   */
  beginRepair?(): Promise<() => Promise<Record<string, unknown> | null>>;
  /** Stores the report, shown by `indexer status` as last_reconcile. */
  recordReconcile(report: object): Promise<void>;
}

/** Dead-letter methods are optional: a source without listable dead letters lacks all three. */
export interface StudySource extends Partial<DeadLetterStore> {
  /** Starts (restart) or resumes the initial load; its versions are allocated above `floor`. */
  startInitial(restart: boolean, floor?: VersionFloor): Promise<InitialStart>;
  /** The next chunk of the initial walk; reading may run ahead of acknowledgement by one chunk. */
  readInitialChunk(limit: number): Promise<SourceChunk | null>;
  finishInitial(): Promise<void>;
  /** Begins a sync pass: fixes the end of the changes this pass will read; versions above `floor`. */
  startSync(floor?: VersionFloor): Promise<void>;
  readChangeChunk(limit: number): Promise<SourceChunk | null>;
  writeDeadLetters(rejected: readonly RejectedRecord[]): Promise<void>;
  recordRun(summary: object): Promise<void>;
  recordError(error: object): Promise<void>;
  status(): Promise<SourceStatus>;
  close(): Promise<void>;
  /**
   * Removes the dead letters of these studies kept with a lower version: the receiver just
   * acknowledged a newer one. Cheap when the source keeps none. Optional with the dead letters.
   */
  removeSupersededDeadLetters?(delivered: readonly { study_iuid: string; source_seq: number }[]): Promise<number>;
  /** The "reconcile needed" mark, or null (optional: a source without one never asks for a reconcile). */
  reconcileNeeded?(): Promise<ReconcileMark | null>;
  /** Sets (or renews) the mark; kept until a repairing reconcile that began after it succeeds. */
  markReconcileNeeded?(why: string): Promise<void>;
  /** Optional: the pending changes (sources with a change queue). */
  inspectQueue?(limit: number): Promise<QueueReport>;
  /** Optional: reconciliation with the receiver. */
  readonly reconcile?: ReconcileReader;
  /**
   * Optional: whether the capture still works (sources with triggers): checked after every pass
   * and by `status`; a problem fails the command (exit 3) once what was queued is delivered.
   */
  captureHealth?(): Promise<CaptureHealth>;
}
