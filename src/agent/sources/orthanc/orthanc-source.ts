import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { DatabaseError } from '../../../shared/errors.js';
import { checkAllocatedVersion } from '../../delivery/version-floor.js';
import type { RejectedRecord } from '../../delivery/delivery.js';
import { emptyConversionStats } from '../../record/conversion-stats.js';
import { coalesceChanges, readFeed } from './change-feed.js';
import type { OrthancClient } from './orthanc-client.js';
import { openStateFile, type StateFile } from './state-file.js';
import { StudyIndex } from './study-index.js';
import { assembleChunk, readStudies, type StudyReads } from './study-reads.js';
import { listDeadLetterFile, removeDeadLetterLines, removeSupersededLines, updateDeadLetterLine, upsertDeadLetterLines } from '../file-state/dead-letter-file.js';
import type { OpenMode } from '../source-plugin.js';
import type { DeadLetterEntry, InitialStart, ReconcileMark, ReconcileReader, SourceChunk, SourceStatus, StudySource, VersionFloor } from '../study-source.js';
import { OrthancReconcile, readReconcileReport } from './orthanc-reconcile.js';

export interface OrthancSourceOptions {
  client: OrthancClient;
  center: string;
  /** The checkpoint file; the study index and dead letters live beside it. */
  stateFile: string;
  /** React to NewStudy too (sooner, counts possibly incomplete), not only StableStudy. */
  newStudy: boolean;
  /** Studies read from Orthanc at once. */
  readConcurrency?: number;
  /** `read` (no pass lock held): the state file is never rewritten (default `pass`). */
  mode?: OpenMode;
}

/**
 * Orthanc: the initial load walks a sorted snapshot of the study IDs; sync tails /changes from the
 * acknowledged position, then lists the studies to find deletions (docs/orthanc.md). Versions
 * follow docs/design.md: each chunk takes max(change position, version_high + 1), stored first.
 */
export class OrthancSource implements StudySource {
  private walk: string[] = [];
  private walkPos = 0;
  private walkedBase = 0;
  private syncCursor = 0;
  private syncEnd = 0;
  private deletionsScanned = false;
  private floor: VersionFloor | undefined;
  /** An initial pass, whose floor has not been compared with version_high yet. */
  private initialFloorUnchecked = false;
  /** Whether the dead-letter file holds any line (unknown until asked; set when one is written). */
  private deadLettersKept: boolean | null = null;
  private readonly concurrency: number;
  readonly reconcile: ReconcileReader;

  private constructor(private readonly opts: OrthancSourceOptions, private readonly state: StateFile, private readonly index: StudyIndex) {
    this.concurrency = opts.readConcurrency ?? 4;
    this.reconcile = new OrthancReconcile({
      client: opts.client, center: opts.center, concurrency: this.concurrency, index, state, reportPath: this.reconcilePath,
      allocate: (floor) => this.allocateVersion(0, floor),
    });
  }

  static async open(opts: OrthancSourceOptions): Promise<OrthancSource> {
    return new OrthancSource(opts, await openStateFile(opts.stateFile), await StudyIndex.open(`${opts.stateFile}.studies.jsonl`));
  }

  private get deadLetterPath(): string {
    return `${this.opts.stateFile}.dead-letters.jsonl`;
  }

  /** The last reconcile report: its own file, so a dry run (no lock) never rewrites the state file. */
  private get reconcilePath(): string {
    return `${this.opts.stateFile}.reconcile.json`;
  }

  /** Also above the receiver's floor: a deleted or restored state file never sends versions back. */
  private async allocateVersion(position: number, passFloor?: number): Promise<number> {
    const floor = passFloor ?? (this.floor ? await this.floor() : null);
    if (this.initialFloorUnchecked) {
      this.initialFloorUnchecked = false;
      // A receiver ahead of this state (a new or restored state file) may hold studies deleted since.
      if (floor !== null && floor > this.state.state.version_high) {
        await this.markReconcileNeeded(`initial load onto a receiver that already held versions up to ${floor} for the centre, above this agent's ${this.state.state.version_high}`);
      }
    }
    const version = checkAllocatedVersion(Math.max(position, this.state.state.version_high + 1, (floor ?? 0) + 1));
    await this.state.update((s) => {
      s.version_high = version;
    });
    return version;
  }

  async startInitial(restart: boolean, floor?: VersionFloor): Promise<InitialStart> {
    this.floor = floor;
    this.initialFloorUnchecked = true;
    const init = this.state.state.initial;
    if (init.start_seq !== null && !restart) {
      if (init.done) return { resumed: true, alreadyDone: true, remaining: 0, from: init.walked };
      // Sorted IDs give a walk that survives restarts: studies added below the cursor since the
      // start are new changes, read by the next sync.
      const after = init.last_id;
      this.walk = (await this.opts.client.studyIds()).sort().filter((id) => after === null || id > after);
      this.walkPos = 0;
      this.walkedBase = init.walked;
      return { resumed: true, alreadyDone: false, remaining: this.walk.length, from: init.walked };
    }
    // Noted before listing, so a change during the load is read by the next sync.
    const startSeq = await this.opts.client.lastChange();
    this.walk = (await this.opts.client.studyIds()).sort();
    this.walkPos = 0;
    this.walkedBase = 0;
    await this.state.update((s) => {
      s.initial = { start_seq: startSeq, started_at: new Date().toISOString(), last_id: null, walked: 0, done: false, total: this.walk.length };
    });
    return { resumed: false, alreadyDone: false, remaining: this.walk.length, from: 0 };
  }

  async readInitialChunk(limit: number): Promise<SourceChunk | null> {
    const ids = this.walk.slice(this.walkPos, this.walkPos + limit);
    if (ids.length === 0) return null;
    this.walkPos += ids.length;
    const walked = this.walkedBase + this.walkPos;
    const lastId = ids[ids.length - 1]!;
    const version = await this.allocateVersion(this.state.state.initial.start_seq ?? 0);
    const stats = emptyConversionStats();
    const reads = await readStudies(this.opts.client, ids, this.opts.center, version, stats, this.concurrency);
    return this.chunk(reads, version, stats, ids.length, walked, () => this.state.update((s) => {
      s.initial.last_id = lastId;
      s.initial.walked = walked;
    }));
  }

  async finishInitial(): Promise<void> {
    // The walk covered every change up to start_seq; a sync resumes right after it.
    await this.state.update((s) => {
      s.initial.done = true;
      s.since = s.initial.start_seq ?? s.since;
    });
  }

  async startSync(floor?: VersionFloor): Promise<void> {
    this.floor = floor;
    this.initialFloorUnchecked = false;
    this.syncEnd = await this.opts.client.lastChange();
    this.syncCursor = this.state.state.since;
    if (this.syncCursor > this.syncEnd) {
      await this.markReconcileNeeded(`Orthanc's change log restarted below the acknowledged position ${this.syncCursor}`);
      // Orthanc's change log restarted (a new or restored database): waiting would miss changes.
      throw new DatabaseError('CHANGE_LOG_RESET', `Orthanc's change log ends at ${this.syncEnd}, before the acknowledged position ${this.syncCursor}`, {
        hint: 'Orthanc\'s database was replaced or restored: run `indexer reconcile` (or `indexer initial --restart`)',
      });
    }
    this.deletionsScanned = false;
  }

  async readChangeChunk(limit: number): Promise<SourceChunk | null> {
    if (this.syncCursor < this.syncEnd) {
      const slice = await readFeed(this.opts.client, this.syncCursor, this.syncEnd, limit);
      this.syncCursor = slice.exhausted ? this.syncEnd : slice.position;
      const position = this.syncCursor;
      const decision = coalesceChanges(slice.changes, this.opts.newStudy);
      const version = await this.allocateVersion(position);
      const stats = emptyConversionStats();
      const reads = await readStudies(this.opts.client, decision.refresh, this.opts.center, version, stats, this.concurrency);
      reads.gone.push(...decision.gone);
      return this.chunk(reads, version, stats, slice.changes.length, position, () => this.state.update((s) => {
        if (position > s.since) s.since = position;
      }));
    }
    if (this.deletionsScanned) return null;
    this.deletionsScanned = true;
    return this.scanDeletions();
  }

  /**
   * Orthanc's SQLite index removes a deleted study's changes with it and logs no Deleted change,
   * so deletions are found by listing the studies and comparing with those sent.
   */
  private async scanDeletions(): Promise<SourceChunk | null> {
    const present = new Set(await this.opts.client.studyIds());
    const missing = [...this.index.ids()].filter((id) => !present.has(id));
    if (missing.length === 0) return null;
    const version = await this.allocateVersion(this.syncEnd);
    return this.chunk({ live: [], gone: missing }, version, emptyConversionStats(), missing.length, this.syncEnd, async () => undefined);
  }

  private async chunk(
    reads: StudyReads, version: number, stats: SourceChunk['stats'], read: number, position: number, advance: () => Promise<void>,
  ): Promise<SourceChunk> {
    const { client, center } = this.opts;
    const assembled = await assembleChunk(client, this.index, reads, center, version, stats, this.concurrency);
    // Remembered before sending: a study the receiver may hold must be known when it disappears.
    this.index.remember(assembled.live.map((s) => ({ id: s.id, iuid: s.record.study_iuid })));
    const gone = reads.gone;
    return {
      records: assembled.records, read, tombstones: assembled.tombstones, stats, position,
      ack: async () => {
        await advance();
        this.index.forget(gone);
      },
    };
  }

  async writeDeadLetters(rejected: readonly RejectedRecord[]): Promise<void> {
    if (rejected.length === 0) return;
    this.deadLettersKept = true;
    await upsertDeadLetterLines(this.deadLetterPath, rejected.map((r) => ({
      study_iuid: r.record.study_iuid, source_seq: r.record.source_seq, reason: r.reason, record: r.record,
    })), new Date().toISOString());
  }

  listDeadLetters(opts: Parameters<NonNullable<StudySource['listDeadLetters']>>[0]): Promise<{ total: number; entries: DeadLetterEntry[] }> {
    return listDeadLetterFile(this.deadLetterPath, opts);
  }

  async removeSupersededDeadLetters(delivered: readonly { study_iuid: string; source_seq: number }[]): Promise<number> {
    if (delivered.length === 0) return 0;
    this.deadLettersKept ??= (await listDeadLetterFile(this.deadLetterPath, { limit: 0 })).total > 0;
    return this.deadLettersKept ? removeSupersededLines(this.deadLetterPath, delivered) : 0;
  }

  async reconcileNeeded(): Promise<ReconcileMark | null> {
    return this.state.state.reconcile_needed;
  }

  /** A new token each time: a reconcile already running no longer clears it. Only under the pass lock. */
  async markReconcileNeeded(why: string): Promise<void> {
    if (this.readOnly) return;
    await this.state.update((s) => {
      s.reconcile_needed = { why, at: new Date().toISOString(), token: randomBytes(8).toString('hex') };
    });
  }

  removeDeadLetters(ids: readonly number[] | 'all'): Promise<number> {
    return removeDeadLetterLines(this.deadLetterPath, ids);
  }

  updateDeadLetterReason(id: number, reason: string): Promise<void> {
    return updateDeadLetterLine(this.deadLetterPath, id, reason);
  }

  /** Without the pass lock nothing is recorded: another pass may be rewriting the state file. */
  private get readOnly(): boolean {
    return this.opts.mode === 'read';
  }

  recordRun(summary: object): Promise<void> {
    if (this.readOnly) return Promise.resolve();
    return this.state.update((s) => {
      s.last_run = summary;
    });
  }

  recordError(error: object): Promise<void> {
    if (this.readOnly) return Promise.resolve();
    return this.state.update((s) => {
      s.last_error = error;
    });
  }

  async status(): Promise<SourceStatus> {
    const s = this.state.state;
    // Orthanc down must not make status fail: the backlog is then unknown.
    const last = await this.opts.client.lastChange().catch(() => null);
    const deadLetters = await readFile(this.deadLetterPath, 'utf8').then((t) => t.split('\n').filter((l) => l.trim()).length, () => 0);
    return {
      backlog: last === null ? null : Math.max(0, last - s.since),
      last_ack_seq: s.since,
      version_high: s.version_high,
      last_run: s.last_run,
      last_error: s.last_error,
      dead_letters: deadLetters,
      last_reconcile: await readReconcileReport(this.reconcilePath),
      reconcile_needed: s.reconcile_needed,
      // Counting them would read every study: a pass counts them (last_run.invalid.missing_iuid).
      missing_iuid: null,
      initial: { done: s.initial.done, last_pk: null, start_seq: s.initial.start_seq, started_at: s.initial.started_at, total: s.initial.total },
    };
  }

  async close(): Promise<void> {
    await this.state.flush();
  }
}
