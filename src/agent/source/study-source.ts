import type { StudyRecord } from '../../shared/study-record.js';
import type { RejectedRecord } from '../delivery/delivery.js';
import type { ConversionStats } from '../record/study-mapper.js';

/**
 * What the pipeline needs from a PACS, so that dcm4chee (queue + triggers in pacsdb) and other
 * sources (Orthanc's change feed, with a state file) share one pipeline. Every chunk already
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
  ack(): Promise<void>;
}

export interface InitialStart {
  resumed: boolean;
  alreadyDone: boolean;
  /** Studies left to read (for the progress bar). */
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
  /** The last `indexer reconcile` report (dcm4chee: indexer_state reconcile.last), if any. */
  last_reconcile?: unknown;
  initial: { done: boolean; last_pk: number | null; start_seq: number | null; started_at: string | null; total: number | null };
}

export interface StudySource {
  /** Starts (restart) or resumes the initial load. */
  startInitial(restart: boolean): Promise<InitialStart>;
  /** The next chunk of the initial walk; reading may run ahead of acknowledgement by one chunk. */
  readInitialChunk(limit: number): Promise<SourceChunk | null>;
  finishInitial(): Promise<void>;
  /** Begins a sync pass: fixes the end of the changes this pass will read. */
  startSync(): Promise<void>;
  readChangeChunk(limit: number): Promise<SourceChunk | null>;
  writeDeadLetters(rejected: readonly RejectedRecord[]): Promise<void>;
  recordRun(summary: object): Promise<void>;
  recordError(error: object): Promise<void>;
  status(): Promise<SourceStatus>;
  close(): Promise<void>;
}
