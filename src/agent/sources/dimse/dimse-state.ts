import { JsonStateFile, readJsonState, type StateShape } from '../file-state/json-state-file.js';
import { daysNewestFirst } from './study-days.js';

/** A sweep (warm, cold) of a range of days, newest first, spread over as many passes as it takes. */
export interface SweepState {
  /** The next day to read; null: no sweep in progress. */
  next_day: string | null;
  /** The day the sweep in progress stops after (its oldest day). */
  last_day: string | null;
  started_at: string | null;
  finished_at: string | null;
}

/**
 * The DICOM network agent's checkpoints: the crawl's place, the sweeps', the studies seen missing
 * once (a tombstone needs two passes and a UID-only query), the days not read completely.
 */
export interface DimseState {
  format: 1;
  /** The last allocated version (source_seq). */
  version_high: number;
  initial: {
    started_at: string | null;
    /** The crawl's newest day (the local date it started). */
    start_day: string | null;
    /** The next (older) day to read; null once done or not started. */
    next_day: string | null;
    /** Studies acknowledged so far by the crawl. */
    crawled: number;
    done: boolean;
  };
  warm: SweepState;
  cold: SweepState;
  /** study_iuid → the day it was missing from and when: a second miss, confirmed, is a deletion. */
  absent: Record<string, { day: string; at: string }>;
  /** Days not read completely → why and when; re-read on later passes, never a tombstone. */
  incomplete: Record<string, { why: string; at: string }>;
  /** The PACS's cap on answers, learned from a cut answer (0: none seen). */
  learned_cap: number;
  last_run: unknown;
  last_error: unknown;
}

const idleSweep = (): SweepState => ({ next_day: null, last_day: null, started_at: null, finished_at: null });

export function emptyDimseState(): DimseState {
  return {
    format: 1, version_high: 0,
    initial: { started_at: null, start_day: null, next_day: null, crawled: 0, done: false },
    warm: idleSweep(), cold: idleSweep(), absent: {}, incomplete: {}, learned_cap: 0,
    last_run: null, last_error: null,
  };
}

const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const dayOrNull = (v: unknown): boolean => v === null || v === undefined || (typeof v === 'string' && DAY.test(v));

/** A checkpoint of the wrong type would silently restart the crawl or send versions backwards. */
function problem(p: Partial<DimseState>): string | null {
  if (p.format !== 1) return 'its "format" is not 1';
  if (!Number.isSafeInteger(p.version_high) || (p.version_high as number) < 0) return '"version_high" is not a whole number >= 0';
  if (!isObject(p.initial)) return '"initial" is not an object';
  const i = p.initial!;
  if (!dayOrNull(i.start_day) || !dayOrNull(i.next_day) || typeof (i.done ?? false) !== 'boolean' || !Number.isSafeInteger(i.crawled ?? 0)) return '"initial" holds a wrong value';
  for (const key of ['warm', 'cold'] as const) {
    const s = p[key];
    if (s !== undefined && (!isObject(s) || !dayOrNull(s.next_day) || !dayOrNull(s.last_day))) return `"${key}" holds a wrong value`;
  }
  for (const key of ['absent', 'incomplete'] as const) if (p[key] !== undefined && !isObject(p[key])) return `"${key}" is not an object`;
  return null;
}

const SHAPE: StateShape<DimseState> = {
  label: 'DICOM network (dimse) state file',
  empty: emptyDimseState,
  problem,
  complete: (parsed, base) => ({
    ...base, ...parsed, format: 1,
    initial: { ...base.initial, ...parsed.initial },
    warm: { ...base.warm, ...parsed.warm },
    cold: { ...base.cold, ...parsed.cold },
  }),
};

export type DimseStateFile = JsonStateFile<DimseState>;

export function openDimseState(path: string): Promise<DimseStateFile> {
  return JsonStateFile.open(path, SHAPE);
}

export function readDimseState(path: string): Promise<DimseState> {
  return readJsonState(path, SHAPE);
}

/** After a window [from, to] was read: its days not read completely are recorded, the others cleared. */
export function recordIncomplete(s: DimseState, from: string, to: string, incomplete: ReadonlyMap<string, string>, at: string): void {
  for (const day of daysNewestFirst(from, to)) {
    const why = incomplete.get(day);
    if (why === undefined) delete s.incomplete[day];
    else s.incomplete[day] = { why, at };
  }
}
