import { JsonStateFile, readJsonState, type StateShape } from '../file-state/json-state-file.js';
import type { ReconcileMark } from '../study-source.js';

/** The Orthanc agent's checkpoints, one small JSON file (the dcm4chee agent keeps them in indexer_state). */
export interface OrthancState {
  format: 1;
  /** The last acknowledged /changes position: sync resumes after it. */
  since: number;
  /** The last allocated version (source_seq). */
  version_high: number;
  initial: {
    /** The /changes position noted when the initial load started. */
    start_seq: number | null;
    started_at: string | null;
    /** The last acknowledged Orthanc study ID of the walk (IDs are walked in sorted order). */
    last_id: string | null;
    /** Studies acknowledged so far by the walk. */
    walked: number;
    done: boolean;
    total: number | null;
  };
  last_run: unknown;
  last_error: unknown;
  /** Set while changes may be missing at the receiver, until a repairing reconcile (docs/reconcile.md). */
  reconcile_needed: ReconcileMark | null;
}

export function emptyState(): OrthancState {
  return {
    format: 1, since: 0, version_high: 0,
    initial: { start_seq: null, started_at: null, last_id: null, walked: 0, done: false, total: null },
    last_run: null, last_error: null, reconcile_needed: null,
  };
}

const SHAPE: StateShape<OrthancState> = {
  label: 'Orthanc state file',
  empty: emptyState,
  complete: (parsed, base) => ({ ...base, ...parsed, initial: { ...base.initial, ...parsed.initial }, format: 1 }),
};

export function readStateFile(path: string): Promise<OrthancState> {
  return readJsonState(path, SHAPE);
}

/** The Orthanc agent's state and its file. */
export type StateFile = JsonStateFile<OrthancState>;

export function openStateFile(path: string): Promise<StateFile> {
  return JsonStateFile.open(path, SHAPE);
}
