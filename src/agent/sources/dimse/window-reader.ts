import { setTimeout as sleep } from 'node:timers/promises';
import { throwIfStopped } from '../../pipeline/run-pass.js';
import type { FindResult, StudyAnswer, StudyKeys } from './dimse-client.js';
import type { DimseError } from './dimse-errors.js';
import { addDays, daysBetween, daysNewestFirst, dicomDate } from './study-days.js';

/** What the reader needs of a DICOM client (DimseClient). */
export interface StudyFinder {
  findStudies(keys: StudyKeys, options: { signal?: AbortSignal; maxAnswers?: number }): Promise<FindResult>;
  failureOf(result: FindResult): DimseError | null;
}

/** A slice of the PACS: days [from, to], optionally a time of day [start, end] in seconds and one modality. */
export interface StudyWindow {
  from: string;
  to: string;
  time?: readonly [number, number];
  modality?: string;
}

export interface WindowRead {
  /** De-duplicated by StudyInstanceUID (split windows overlap: a study of two modalities). */
  answers: StudyAnswer[];
  /** Days that could not be read completely, with why; they never produce tombstones. */
  incomplete: Map<string, string>;
  /** Answers without a usable StudyInstanceUID. */
  dropped: number;
}

export interface ReaderOptions {
  signal: AbortSignal;
  /** Pause before every query but the first. */
  pauseMs: number;
  /** The PACS's cap on answers to one query: configured, else learned (0: unknown). */
  cap(): number;
  learnCap(answers: number): void;
}

/** Our own bound on one answer, in memory at once, when the PACS's cap is unknown. */
export const ANSWER_LIMIT = 10_000;
/**
 * Queries one window may cost, its splits included: past it the parts not read are incomplete
 * (a day cut into quarter hours and modalities is about 3,000 queries; a PACS should never see that).
 */
export const MAX_QUERIES_PER_WINDOW = 300;
/** UIDs per confirming query (a list match; the client takes up to 500). */
const UIDS_PER_QUERY = 100;
/** A time slice is not cut below this (seconds); a slice still cut is read by modality. */
const MIN_TIME_SPAN = 15 * 60;
/** Asked one by one when a quarter hour still holds more studies than one answer can. */
const COMMON_MODALITIES = ['CT', 'MR', 'CR', 'DX', 'US', 'MG', 'XA', 'RF', 'NM', 'PT', 'OT', 'SR', 'DOC', 'SC', 'ES', 'IO', 'PX', 'RG', 'OP', 'XC', 'ECG', 'KO', 'PR', 'SEG'];

const hhmmss = (s: number): string => [Math.floor(s / 3600), Math.floor(s / 60) % 60, s % 60].map((n) => String(n).padStart(2, '0')).join('');

export function windowKeys(w: StudyWindow): StudyKeys {
  const keys: StudyKeys = { StudyDate: w.from === w.to ? dicomDate(w.from) : `${dicomDate(w.from)}-${dicomDate(w.to)}` };
  // The slice's last second includes its fractions (115959.5): slices meet without a gap.
  if (w.time) keys.StudyTime = `${hhmmss(w.time[0])}-${hhmmss(w.time[1])}.999999`;
  if (w.modality) keys.ModalitiesInStudy = w.modality;
  return keys;
}

/** Every day of `w` is incomplete for `why` (`keepEarlier`: a day already marked keeps its reason). */
function markIncomplete(out: WindowRead, w: StudyWindow, why: string, keepEarlier = false): void {
  for (const day of daysNewestFirst(w.from, w.to)) if (!keepEarlier || !out.incomplete.has(day)) out.incomplete.set(day, why);
}

/**
 * Servers that cut silently (Success) stop at their cap, or at a round number: an answer of that
 * size is read again in halves, and if the halves hold more, the cap is learned.
 */
function looksCut(n: number, cap: number): boolean {
  return cap > 0 ? n >= cap : n >= 500 && n % 100 === 0;
}

/**
 * Reads windows of the PACS completely where it can: an answer cut by the server (a Cancel
 * status, a count at its cap), refused (a failure status) or over our own limit is read again in
 * smaller windows — a date range in halves (newer first), a day in time halves down to a quarter
 * hour, then by modality — de-duplicated by UID. A broken exchange (refused association,
 * timeout) is thrown: the pass stops and resumes from its checkpoint.
 */
export class WindowReader {
  /** Queries sent by this reader. */
  queries = 0;

  constructor(private readonly finder: StudyFinder, private readonly opts: ReaderOptions) {}

  /** The PACS's cap on answers as known now (configured or learned; 0: unknown). */
  get cap(): number {
    return this.opts.cap();
  }

  async read(w: StudyWindow): Promise<WindowRead> {
    const out: WindowRead = { answers: [], incomplete: new Map(), dropped: 0 };
    const seen = new Set<string>();
    await this.readInto(w, out, seen, this.queries + MAX_QUERIES_PER_WINDOW);
    return out;
  }

  private async readInto(w: StudyWindow, out: WindowRead, seen: Set<string>, until: number): Promise<void> {
    if (this.queries >= until) {
      markIncomplete(out, w, `not read: the window's ${MAX_QUERIES_PER_WINDOW} queries were spent splitting it`);
      return;
    }
    const result = await this.query(w);
    const cap = this.opts.cap();
    const failed = this.finder.failureOf(result);
    const cut = result.status === 'cancelled' || looksCut(result.answers.length, cap);
    if (!failed && !cut) {
      this.keep(result, out, seen);
      return;
    }
    // A refusal is split by date only: a PACS that refuses a day will not take its quarter hours either.
    const parts = failed && w.from === w.to ? [] : this.split(w, result);
    if (parts.length === 0) {
      this.keep(result, out, seen);
      const why = failed ? failed.message : `more studies than one answer holds (${result.answers.length}) even by modality`;
      markIncomplete(out, w, why);
      return;
    }
    const before = seen.size;
    // What the cut answer already holds is kept: a split that fails later still sends it.
    if (!failed) this.keep(result, out, seen);
    const first = seen.size;
    for (const part of parts) await this.readInto(part, out, seen, until);
    if (!failed && result.status === 'success' && !result.limited && seen.size > first && result.answers.length > 0 && this.opts.cap() === 0) {
      this.opts.learnCap(result.answers.length);
    }
    if (w.modality === undefined && parts[0]?.modality !== undefined) {
      // Read by modality: studies of a modality not asked (or of none) may be missing.
      markIncomplete(out, w, `read by modality (${seen.size - before} studies): studies of other modalities may be missing`, true);
    }
  }

  /** The smaller windows that cover `w`; none when it cannot be cut further. */
  private split(w: StudyWindow, cutAnswer: FindResult): StudyWindow[] {
    const days = daysBetween(w.from, w.to);
    if (days > 1) {
      const olderEnd = addDays(w.from, Math.floor(days / 2) - 1);
      return [{ ...w, from: addDays(olderEnd, 1) }, { ...w, to: olderEnd }];
    }
    if (w.modality !== undefined) return [];
    const [start, end] = w.time ?? [0, 86_399];
    if (end - start + 1 > MIN_TIME_SPAN) {
      const mid = start + Math.floor((end - start + 1) / 2);
      return [{ ...w, time: [start, mid - 1] }, { ...w, time: [mid, end] }];
    }
    const mods = new Set(COMMON_MODALITIES);
    for (const a of cutAnswer.answers) for (const m of a.modalities) if (/^[A-Z0-9_]{1,16}$/.test(m)) mods.add(m);
    return [...mods].map((modality) => ({ ...w, modality }));
  }

  private keep(result: FindResult, out: WindowRead, seen: Set<string>): void {
    out.dropped += result.dropped;
    for (const a of result.answers) {
      if (seen.has(a.studyInstanceUid)) continue;
      seen.add(a.studyInstanceUid);
      out.answers.push(a);
    }
  }

  /**
   * The studies of these UIDs, on any day: a study missing from its day is asked for alone before
   * it is called deleted. Null when an answer was cut or refused: nothing can be concluded.
   */
  async byUids(iuids: readonly string[]): Promise<StudyAnswer[] | null> {
    const found: StudyAnswer[] = [];
    for (let i = 0; i < iuids.length; i += UIDS_PER_QUERY) {
      const result = await this.queryKeys({ StudyInstanceUID: iuids.slice(i, i + UIDS_PER_QUERY) });
      if (this.finder.failureOf(result) || result.status !== 'success') return null;
      found.push(...result.answers);
    }
    return found;
  }

  private query(w: StudyWindow): Promise<FindResult> {
    return this.queryKeys(windowKeys(w));
  }

  private async queryKeys(keys: StudyKeys): Promise<FindResult> {
    const { signal, pauseMs } = this.opts;
    throwIfStopped(signal);
    if (this.queries > 0 && pauseMs > 0) await sleep(pauseMs, undefined, { signal }).catch(() => undefined);
    throwIfStopped(signal);
    this.queries += 1;
    const cap = this.opts.cap();
    // A server that ends a cut answer with Cancel (Orthanc) teaches no cap: it says so each time, and
    // an answer of that length ending Success is complete (taken for cut, its day would stay incomplete).
    return this.finder.findStudies(keys, { signal, maxAnswers: cap > 0 ? cap : ANSWER_LIMIT });
  }
}
