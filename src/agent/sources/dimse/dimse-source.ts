import { ConfigError } from '../../../shared/errors.js';
import type { Logger } from '../../../shared/logger.js';
import { checkAllocatedVersion } from '../../delivery/version-floor.js';
import type { RejectedRecord } from '../../delivery/delivery.js';
import type { ConversionStats } from '../../record/conversion-stats.js';
import { tombstoneRecord } from '../../record/tombstone-record.js';
import type { ReconcileClient } from '../../reconcile/reconcile-client.js';
import { listDeadLetterFile, removeDeadLetterLines, removeSupersededLines, updateDeadLetterLine, upsertDeadLetterLines } from '../file-state/dead-letter-file.js';
import type { OpenMode } from '../source-plugin.js';
import type { DeadLetterEntry, InitialStart, SourceChunk, SourceStatus, StudySource, VersionFloor } from '../study-source.js';
import { crawlStatus } from './crawl-status.js';
import type { DimseStateFile } from './dimse-state.js';
import { OutcomeQueue, type Outcome, type WindowWalk } from './outcome-queue.js';
import { SyncPass } from './sync-pass.js';
import { CrawlWalk } from './crawl-walk.js';
import { localDay } from './study-days.js';
import type { PlanSettings } from './pass-plan.js';
import { WindowReader, type StudyFinder } from './window-reader.js';

/** Windows read before a chunk is cut, whatever they hold: the places they reached are stored with it. */
const WINDOWS_PER_CHUNK = 20;

export interface DimseSourceOptions {
  finder: StudyFinder;
  center: string;
  state: DimseStateFile;
  /** The receiver's per-day holdings (the reconcile protocol); null when only reading (status). */
  receiver: ReconcileClient | null;
  plan: PlanSettings;
  pauseMs: number;
  maxQueriesPerPass: number;
  /** The PACS's configured cap on answers (0: unknown, learned). */
  maxAnswers: number;
  deadLetterPath: string;
  mode: OpenMode;
  log: Logger;
  /** The command's stop signal: a query in flight is aborted at it. */
  signal?: AbortSignal;
  now?: () => Date;
}

/**
 * Any PACS over DICOM C-FIND (docs/dimse.md). The initial load crawls the history newest first,
 * day by day (quiet stretches asked together), resumable; each sync pass re-reads the hot days,
 * the days left incomplete and, where due, part of the warm and cold sweeps, compares each day
 * with the receiver's holdings and sends what is new or changed; a study missing from two
 * readings in a row that a UID-only query no longer finds is sent as a tombstone.
 */
export class DimseSource implements StudySource {
  private floor: VersionFloor | undefined;
  private readonly queue = new OutcomeQueue();
  private walk: WindowWalk | null = null;
  private readonly stop = new AbortController();
  private readonly now: () => Date;
  private readonly signal: AbortSignal;

  constructor(private readonly opts: DimseSourceOptions) {
    this.now = opts.now ?? (() => new Date());
    this.signal = opts.signal ? AbortSignal.any([this.stop.signal, opts.signal]) : this.stop.signal;
  }

  private reader(): WindowReader {
    const { state, maxAnswers, pauseMs } = this.opts;
    return new WindowReader(this.opts.finder, {
      signal: this.signal,
      pauseMs,
      cap: () => maxAnswers || state.state.learned_cap,
      learnCap: (n) => {
        // Kept in memory until the next acknowledged write: a cap is a hint, not a checkpoint.
        if (!this.readOnly && n > 0) (state.state as { learned_cap: number }).learned_cap = n;
        this.opts.log.info({ answers: n }, 'the PACS cut an answer: its cap is learned');
      },
    });
  }

  private async allocateVersion(): Promise<number> {
    const floor = this.floor ? await this.floor() : null;
    const version = checkAllocatedVersion(Math.max(this.opts.state.state.version_high + 1, (floor ?? 0) + 1));
    await this.opts.state.update((s) => {
      s.version_high = version;
    });
    return version;
  }

  async startInitial(restart: boolean, floor?: VersionFloor): Promise<InitialStart> {
    this.floor = floor;
    const { state, plan } = this.opts;
    const init = state.state.initial;
    if (!restart && init.done) return { resumed: true, alreadyDone: true, remaining: 0, from: init.crawled };
    const resumed = !restart && init.start_day !== null && init.next_day !== null;
    if (!resumed) {
      const today = localDay(this.now());
      await state.update((s) => {
        s.initial = { started_at: this.now().toISOString(), start_day: today, next_day: today, crawled: 0, done: false };
      });
    }
    const walk = new CrawlWalk(this.reader(), state.state.initial.next_day!, plan.historyFrom, plan.maxSpanDays, this.opts.center);
    this.walk = walk;
    return { resumed, alreadyDone: false, remaining: walk.daysLeft, from: state.state.initial.crawled };
  }

  readInitialChunk(limit: number): Promise<SourceChunk | null> {
    return this.readChunk(limit);
  }

  async finishInitial(): Promise<void> {
    const at = this.now().toISOString();
    await this.opts.state.update((s) => {
      s.initial.done = true;
      s.initial.next_day = null;
      // The crawl just read every day: neither sweep is due before its interval.
      for (const lane of ['warm', 'cold'] as const) if (s[lane].next_day === null) s[lane].finished_at = at;
    });
  }

  async startSync(floor?: VersionFloor): Promise<void> {
    this.floor = floor;
    const { state, plan, receiver, maxQueriesPerPass, log } = this.opts;
    if (!state.state.initial.done) log.warn({ next_day: state.state.initial.next_day }, 'the initial crawl is not done: run `indexer initial` (the cold sweep waits for it)');
    if (!receiver) {
      throw new ConfigError('indexer sync with source "dimse" compares each day with the receiver: it needs protocol "v2" with url, center and key');
    }
    this.walk = new SyncPass({
      reader: this.reader(), receiver, state, plan, maxQueries: maxQueriesPerPass, center: this.opts.center, log,
      signal: this.signal, today: localDay(this.now()), now: this.now(),
    });
  }

  readChangeChunk(limit: number): Promise<SourceChunk | null> {
    return this.readChunk(limit);
  }

  /** Reads windows until a chunk is full (or nothing is left), then cuts one chunk off the queue. */
  private async readChunk(limit: number): Promise<SourceChunk | null> {
    const walk = this.walk;
    if (!walk) return null;
    let more = true;
    // Quiet windows send nothing: their places are still stored every few windows.
    for (let windows = 0; more && this.queue.pending < limit && windows < WINDOWS_PER_CHUNK; windows++) {
      const outcome: Outcome | null = await walk.next();
      if (outcome) this.queue.push(outcome);
      else more = false;
    }
    if (this.queue.empty) return null;
    const cut = this.queue.cut(limit);
    const stats: ConversionStats = walk.takeStats();
    // A chunk that only moves the place (nothing new on those days) takes no version.
    const version = cut.records.length + cut.gone.length > 0 ? await this.allocateVersion() : this.opts.state.state.version_high;
    const records = cut.records.map((r) => ({ ...r, source_seq: version }));
    for (const iuid of cut.gone) records.push(tombstoneRecord(this.opts.center, iuid, null, version));
    return {
      records, read: cut.read, tombstones: cut.gone.length, stats, position: version, progress: cut.days,
      ack: async () => {
        if (cut.applies.length === 0) return;
        const at = this.now().toISOString();
        await this.opts.state.update((s) => {
          for (const apply of cut.applies) apply(s, at);
        });
      },
    };
  }

  async writeDeadLetters(rejected: readonly RejectedRecord[]): Promise<void> {
    if (rejected.length === 0) return;
    await upsertDeadLetterLines(this.opts.deadLetterPath, rejected.map((r) => ({
      study_iuid: r.record.study_iuid, source_seq: r.record.source_seq, reason: r.reason, record: r.record,
    })), this.now().toISOString());
  }

  listDeadLetters(opts: Parameters<NonNullable<StudySource['listDeadLetters']>>[0]): Promise<{ total: number; entries: DeadLetterEntry[] }> {
    return listDeadLetterFile(this.opts.deadLetterPath, opts);
  }

  removeSupersededDeadLetters(delivered: readonly { study_iuid: string; source_seq: number }[]): Promise<number> {
    return delivered.length === 0 ? Promise.resolve(0) : removeSupersededLines(this.opts.deadLetterPath, delivered);
  }

  removeDeadLetters(ids: readonly number[] | 'all'): Promise<number> {
    return removeDeadLetterLines(this.opts.deadLetterPath, ids);
  }

  updateDeadLetterReason(id: number, reason: string): Promise<void> {
    return updateDeadLetterLine(this.opts.deadLetterPath, id, reason);
  }

  private get readOnly(): boolean {
    return this.opts.mode === 'read';
  }

  recordRun(summary: object): Promise<void> {
    return this.readOnly ? Promise.resolve() : this.opts.state.update((s) => {
      s.last_run = summary;
    });
  }

  recordError(error: object): Promise<void> {
    return this.readOnly ? Promise.resolve() : this.opts.state.update((s) => {
      s.last_error = error;
    });
  }

  async status(): Promise<SourceStatus> {
    const s = this.opts.state.state;
    const deadLetters = (await listDeadLetterFile(this.opts.deadLetterPath, { limit: 0 }).catch(() => ({ total: 0 }))).total;
    return {
      backlog: null, last_ack_seq: null, version_high: s.version_high, last_run: s.last_run, last_error: s.last_error,
      dead_letters: deadLetters, reconcile_needed: null, missing_iuid: null,
      initial: { done: s.initial.done, last_pk: null, start_seq: null, started_at: s.initial.started_at, total: null },
      detail: crawlStatus(s, this.opts.plan.historyFrom),
    };
  }

  async close(): Promise<void> {
    this.stop.abort();
    await this.opts.state.flush();
    await this.opts.receiver?.close().catch(() => undefined);
  }
}
