import type { StudyRecord } from '../../../shared/study-record.js';
import { deleteQueueRows, listQueue, maxQueueSeq, pruneQueueThrough, queueBacklog, queueOverview, readQueueChunk, type QueueRow } from './change-queue.js';
import { anyDeadLetter, countDeadLetters, deleteDeadLetters, listDeadLetters, removeSupersededDeadLetters, updateDeadLetterReason, writeDeadLetters } from './dead-letter.js';
import { parseReconcileMark, readReconcileMarkText, RECONCILE_NEEDED, writeReconcileMark } from './reconcile-mark.js';
import type { AgentConfig } from '../../config.js';
import { withDatabaseErrors } from './database-errors.js';
import { Dcm4cheeReconcile } from './dcm4chee-reconcile.js';
import type { PacsPool } from './pacs-db.js';
import { ensureQueueGeneration } from './queue-generation.js';
import { STATE, allocateVersion, readAllState, readNumberState, writeState, writeStates } from './state-store.js';
import { RECONCILE_STATE } from './reconcile-reader.js';
import { countStudiesAfter, readStudiesAfter, readStudiesByPk, studiesWithoutIuid } from './study-reader.js';
import { captureHealth } from './capture-health.js';
import type { CaptureHealth } from '../source-health.js';
import { decodeText } from './text-decode.js';
import { emptyConversionStats } from '../../record/conversion-stats.js';
import { tombstoneRecord } from '../../record/tombstone-record.js';
import { mapStudyRow } from './study-mapper.js';
import type { DeadLetterEntry, InitialStart, QueueReport, ReconcileMark, ReconcileReader, SourceChunk, SourceStatus, StudySource, VersionFloor } from '../study-source.js';

function parseJson(v: string | null | undefined): unknown {
  if (!v) return null;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

const num = (v: string | null | undefined): number | null => (v === null || v === undefined || v === '' ? null : Number(v));

/**
 * dcm4chee 2.x: studies read from pacsdb, changes from the trigger-fed study_service queue. Every
 * public method maps driver errors to DatabaseError itself (database-errors.ts).
 */
export class Dcm4cheeSource implements StudySource {
  private initialCursor = 0;
  private syncCursor = 0;
  private syncEnd = 0;
  private floor: VersionFloor | undefined;
  /** An initial pass, whose floor has not been compared with version_high yet. */
  private initialFloorUnchecked = false;
  /** Whether any dead letter is kept (unknown until asked; set when one is written). */
  private deadLettersKept: boolean | null = null;
  readonly reconcile: ReconcileReader;

  constructor(private readonly pool: PacsPool, private readonly center: string, private readonly database: AgentConfig['database']) {
    this.reconcile = new Dcm4cheeReconcile(pool, center, (work) => this.mapped(work));
  }

  private mapped<T>(work: () => Promise<T>): Promise<T> {
    return withDatabaseErrors(this.database, work);
  }

  /** The next chunk's version, above the receiver's floor for this pass (docs/design.md). */
  private async nextVersion(): Promise<number> {
    const floor = this.floor ? await this.floor() : null;
    if (this.initialFloorUnchecked) {
      this.initialFloorUnchecked = false;
      await this.markIfReceiverAhead(floor);
    }
    return allocateVersion(this.pool, floor);
  }

  /**
   * An initial load onto a receiver holding versions this state never allocated (a reinstall, a
   * restored or reset indexer_state): it may hold studies deleted since, which the load cannot
   * remove. Compared by versions, never clocks; `initial --restart` on the same state is above it.
   */
  private async markIfReceiverAhead(floor: number | null): Promise<void> {
    if (floor === null) return;
    const high = (await readNumberState(this.pool, STATE.versionHigh)) ?? 0;
    if (floor > high) await writeReconcileMark(this.pool, `initial load onto a receiver that already held versions up to ${floor} for the centre, above this agent's ${high}`);
  }

  startInitial(restart: boolean, floor?: VersionFloor): Promise<InitialStart> {
    return this.mapped(async () => {
      this.floor = floor;
      this.initialFloorUnchecked = true;
      const state = await readAllState(this.pool);
      const started = state.get(STATE.initialStartSeq) != null && state.get(STATE.initialLastPk) != null;
      if (started && !restart) {
        const done = state.get(STATE.initialDone) === '1';
        this.initialCursor = num(state.get(STATE.initialLastPk)) ?? 0;
        const remaining = done ? 0 : await countStudiesAfter(this.pool, this.initialCursor);
        return { resumed: true, alreadyDone: done, remaining, from: this.initialCursor };
      }
      // Changes queued before this point are covered by the walk: they are pruned now, while
      // every one of them is already committed, so none committed later is lost (docs/design.md).
      const startSeq = await maxQueueSeq(this.pool);
      const total = await countStudiesAfter(this.pool, 0);
      await writeStates(this.pool, {
        [STATE.initialStartSeq]: startSeq,
        [STATE.initialStartedAt]: new Date().toISOString(),
        [STATE.initialLastPk]: 0,
        [STATE.initialDone]: 0,
        [STATE.initialTotal]: total,
      });
      await pruneQueueThrough(this.pool, startSeq);
      this.initialCursor = 0;
      return { resumed: false, alreadyDone: false, remaining: total, from: 0 };
    });
  }

  readInitialChunk(limit: number): Promise<SourceChunk | null> {
    return this.mapped(async () => {
      const rows = await readStudiesAfter(this.pool, this.initialCursor, limit);
      if (rows.length === 0) return null;
      const lastPk = Number(rows[rows.length - 1]!.study_pk);
      this.initialCursor = lastPk;
      const version = await this.nextVersion();
      const stats = emptyConversionStats();
      const records: StudyRecord[] = [];
      const unidentified: number[] = [];
      for (const row of rows) {
        const r = mapStudyRow(row, this.center, version, stats);
        if (r) records.push(r);
        else unidentified.push(Number(row.study_pk));
      }
      return {
        records, read: rows.length, tombstones: 0, stats, position: lastPk, unidentified,
        ack: () => this.mapped(() => writeState(this.pool, STATE.initialLastPk, lastPk)),
      };
    });
  }

  finishInitial(): Promise<void> {
    return this.mapped(async () => {
      const startSeq = (await readNumberState(this.pool, STATE.initialStartSeq)) ?? 0;
      const lastAck = (await readNumberState(this.pool, STATE.lastAckSeq)) ?? 0;
      await writeStates(this.pool, { [STATE.initialDone]: 1, [STATE.lastAckSeq]: Math.max(startSeq, lastAck) });
      await ensureQueueGeneration(this.pool);
    });
  }

  startSync(floor?: VersionFloor): Promise<void> {
    return this.mapped(async () => {
      this.floor = floor;
      this.initialFloorUnchecked = false;
      await ensureQueueGeneration(this.pool);
      this.syncCursor = 0;
      this.syncEnd = await maxQueueSeq(this.pool);
    });
  }

  readChangeChunk(limit: number): Promise<SourceChunk | null> {
    return this.mapped(async () => {
      const rows = await readQueueChunk(this.pool, this.syncCursor, this.syncEnd, limit);
      if (rows.length === 0) return null;
      const lastSeq = rows[rows.length - 1]!.seq;
      this.syncCursor = lastSeq;
      const version = await this.nextVersion();
      const { records, tombstones, stats, unidentified } = await this.coalesce(rows, version);
      const seqs = rows.map((r) => r.seq);
      return {
        records, read: rows.length, tombstones, stats, position: lastSeq, unidentified,
        ack: () => this.mapped(async () => {
          await deleteQueueRows(this.pool, seqs);
          const prev = (await readNumberState(this.pool, STATE.lastAckSeq)) ?? 0;
          if (lastSeq > prev) await writeState(this.pool, STATE.lastAckSeq, lastSeq);
        }),
      };
    });
  }

  /**
   * One record per study of the chunk: its current row, or a tombstone when it is gone. An iuid
   * the queue saw that no live study of the chunk carries any more (deleted, or the iuid was
   * changed) gets a tombstone; a live study with the same iuid (re-imported) wins.
   */
  private async coalesce(rows: QueueRow[], version: number) {
    const iuidsByPk = new Map<number, Set<string>>();
    for (const row of rows) {
      const set = iuidsByPk.get(row.study_pk) ?? new Set<string>();
      const iuid = decodeText(row.study_iuid)?.trim();
      if (iuid) set.add(iuid);
      iuidsByPk.set(row.study_pk, set);
    }
    const studies = await readStudiesByPk(this.pool, [...iuidsByPk.keys()]);
    const stats = emptyConversionStats();
    const records: StudyRecord[] = [];
    const live = new Set<string>();
    const unidentified: number[] = [];
    for (const row of studies) {
      const r = mapStudyRow(row, this.center, version, stats);
      if (r) {
        records.push(r);
        live.add(r.study_iuid);
      } else unidentified.push(Number(row.study_pk));
    }
    const dead = new Map<string, number>();
    for (const [pk, iuids] of iuidsByPk) for (const iuid of iuids) if (!live.has(iuid) && !dead.has(iuid)) dead.set(iuid, pk);
    for (const [iuid, pk] of dead) records.push(tombstoneRecord(this.center, iuid, pk, version));
    return { records, tombstones: dead.size, stats, unidentified };
  }

  writeDeadLetters(rejected: Parameters<StudySource['writeDeadLetters']>[0]): Promise<void> {
    return this.mapped(async () => {
      await writeDeadLetters(this.pool, rejected);
      if (rejected.length > 0) this.deadLettersKept = true;
    });
  }

  removeSupersededDeadLetters(delivered: readonly { study_iuid: string; source_seq: number }[]): Promise<number> {
    return this.mapped(async () => {
      if (delivered.length === 0) return 0;
      this.deadLettersKept ??= await anyDeadLetter(this.pool);
      return this.deadLettersKept ? removeSupersededDeadLetters(this.pool, delivered) : 0;
    });
  }

  reconcileNeeded(): Promise<ReconcileMark | null> {
    return this.mapped(async () => parseReconcileMark(await readReconcileMarkText(this.pool)));
  }

  markReconcileNeeded(why: string): Promise<void> {
    return this.mapped(() => writeReconcileMark(this.pool, why));
  }

  inspectQueue(limit: number): Promise<QueueReport> {
    return this.mapped(async () => ({ ...(await queueOverview(this.pool)), entries: await listQueue(this.pool, limit) }));
  }

  listDeadLetters(opts: Parameters<NonNullable<StudySource['listDeadLetters']>>[0]): Promise<{ total: number; entries: DeadLetterEntry[] }> {
    return this.mapped(async () => {
      const rows = await listDeadLetters(this.pool, opts);
      return { total: await countDeadLetters(this.pool), entries: rows.map(({ study_pk: _pk, ...entry }) => entry) };
    });
  }

  removeDeadLetters(ids: readonly number[] | 'all'): Promise<number> {
    return this.mapped(() => deleteDeadLetters(this.pool, ids));
  }

  updateDeadLetterReason(id: number, reason: string): Promise<void> {
    return this.mapped(() => updateDeadLetterReason(this.pool, id, reason));
  }

  captureHealth(): Promise<CaptureHealth> {
    return this.mapped(() => captureHealth(this.pool));
  }

  recordRun(summary: object): Promise<void> {
    return this.mapped(() => writeState(this.pool, STATE.lastRun, JSON.stringify(summary)));
  }

  recordError(error: object): Promise<void> {
    return this.mapped(() => writeState(this.pool, STATE.lastError, JSON.stringify(error)));
  }

  status(): Promise<SourceStatus> {
    return this.mapped(async () => {
      const state = await readAllState(this.pool);
      return {
        backlog: await queueBacklog(this.pool),
        last_ack_seq: num(state.get(STATE.lastAckSeq)),
        version_high: num(state.get(STATE.versionHigh)),
        last_run: parseJson(state.get(STATE.lastRun)),
        last_error: parseJson(state.get(STATE.lastError)),
        dead_letters: await countDeadLetters(this.pool),
        last_reconcile: parseJson(state.get(RECONCILE_STATE)),
        reconcile_needed: parseReconcileMark(state.get(RECONCILE_NEEDED) ?? null),
        missing_iuid: await studiesWithoutIuid(this.pool, 20),
        initial: {
          done: state.get(STATE.initialDone) === '1',
          last_pk: num(state.get(STATE.initialLastPk)),
          start_seq: num(state.get(STATE.initialStartSeq)),
          started_at: state.get(STATE.initialStartedAt) ?? null,
          total: num(state.get(STATE.initialTotal)),
        },
      };
    });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
