import { badRequest, tooLarge } from '../http/api-error.js';
import type { Metrics } from '../http/metrics.js';
import { validateLegacyRecord, validateRecord, withLegacyNulls, type StudyVersion, type Validated } from '../record-validation.js';
import type { ReceiverStore } from '../store/receiver-store.js';
import type { UpsertOutcome } from '../store/study-store.js';

/** The centre a batch is stored for: its code (in records and metrics) and its row id (in the store). */
export interface IngestCenter {
  code: string;
  id: number;
}

export interface Rejected {
  index: number;
  study_iuid: string | null;
  reason: string;
}

export interface BatchResult extends UpsertOutcome {
  rejected: Rejected[];
  normalised: Record<string, number>;
}

/** Where a batch's summary line goes (the request's logger). */
export interface BatchLog {
  info(fields: object, message: string): void;
}

export interface IngestService {
  /** A v2 batch: every record validated alone, the valid ones stored, the others listed with a reason. */
  storeBatch(center: IngestCenter, records: unknown[], log: BatchLog): Promise<BatchResult>;
  /**
   * One legacy record (versioned by arrival); a record the receiver cannot store is a 400. Its
   * `"None"` values are nulls (withLegacyNulls).
   */
  storeLegacy(center: IngestCenter, body: Record<string, unknown>): Promise<void>;
}

/**
 * The legacy record's `center`, read before the record is (to authorise it): a string (a number is
 * taken as its text, as a Python client may send it); absent, blank or the legacy `"None"` is a 400.
 */
export function legacyCenter(body: Record<string, unknown>): string {
  const c = withLegacyNulls({ center: body.center }).center;
  if (c === undefined || c === null || c === '') throw badRequest('center is required');
  if (typeof c === 'number' && Number.isFinite(c)) return String(c);
  if (typeof c !== 'string') throw badRequest('center must be a string');
  return c;
}

/** Per field, how many accepted records had a value nulled or truncated (the answer's `normalised`). */
function tally(fields: readonly string[], into: Record<string, number> = {}): Record<string, number> {
  for (const field of fields) into[field] = (into[field] ?? 0) + 1;
  return into;
}

/** Keeps a strictly increasing clock so two legacy posts in one millisecond still order. */
function monotonicClock(now: () => number): () => number {
  let last = 0;
  return () => {
    last = Math.max(now(), last + 1);
    return last;
  };
}

function partition(records: unknown[], center: string): { valid: StudyVersion[]; rejected: Rejected[]; normalised: Record<string, number> } {
  const valid: StudyVersion[] = [];
  const rejected: Rejected[] = [];
  const normalised: Record<string, number> = {};
  records.forEach((raw, index) => {
    const r: Validated = validateRecord(raw, center);
    if (r.ok) {
      valid.push(r.version);
      tally(r.normalised, normalised);
    } else rejected.push({ index, study_iuid: r.study_iuid, reason: r.reason });
  });
  return { valid, rejected, normalised };
}

export interface IngestDeps {
  store: ReceiverStore;
  metrics: Metrics;
  recordsPerBatch: number;
  now: () => number;
}

/** Validation, versioning and ingest metrics around the store's upsert. */
export function createIngestService(deps: IngestDeps): IngestService {
  const { store, metrics } = deps;
  const legacyNow = monotonicClock(deps.now);

  const stored = (center: string, outcome: UpsertOutcome, normalised: Record<string, number>, started: bigint): void => {
    metrics.countIngest(center, 'stored', outcome.stored);
    metrics.countIngest(center, 'unchanged', outcome.unchanged);
    metrics.countIngest(center, 'stale', outcome.stale);
    metrics.countNormalised(center, normalised);
    metrics.observeIngestSeconds(Number(process.hrtime.bigint() - started) / 1e9);
  };

  return {
    async storeBatch(center, records, log) {
      const started = process.hrtime.bigint();
      if (records.length > deps.recordsPerBatch) throw tooLarge(`more than ${deps.recordsPerBatch} records in one batch`);
      const { valid, rejected, normalised } = partition(records, center.code);
      // The upsert also records the centre's contact and highest source_seq, in the same transaction.
      const outcome = await store.upsert(center.id, valid);
      metrics.countIngest(center.code, 'rejected', rejected.length);
      stored(center.code, outcome, normalised, started);
      log.info({ center: center.code, records: records.length, ...outcome, rejected: rejected.length, normalised }, 'batch stored');
      return { ...outcome, rejected, normalised };
    },

    async storeLegacy(center, body) {
      const started = process.hrtime.bigint();
      const r = validateLegacyRecord(withLegacyNulls(body), legacyNow());
      if (!r.ok) {
        metrics.countIngest(center.code, 'rejected', 1);
        throw badRequest(r.reason);
      }
      stored(center.code, await store.upsert(center.id, [r.version]), tally(r.normalised), started);
    },
  };
}
