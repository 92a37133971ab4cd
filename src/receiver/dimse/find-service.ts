import type { Logger } from '../../shared/logger.js';
import { centersOf } from '../dicomweb/qido-centers.js';
import { parseQido, type QidoQuery } from '../dicomweb/qido-params.js';
import { ApiError } from '../http/api-error.js';
import { safeError } from '../store/db.js';
import type { DicomClientStore } from '../store/dicom-client-store.js';
import type { ReceiverStore } from '../store/receiver-store.js';
import { QueryTooBroadError, StoreUnavailableError } from '../store/store-errors.js';
import type { StudyMatch } from '../store/study-match.js';
import { findKeys, patientLevelOnly, dictionaryVr, type FindKeys } from './find-keys.js';
import { patientLevel, studyLevel, type FindSink, type LevelEnd } from './find-levels.js';
import { findAudit, type FindCaller } from './find-audit.js';
import { FindFailure, hex, STATUS } from './find-status.js';
import { IdentifierError, readIdentifier } from './identifier-reader.js';

/**
 * One C-FIND, from its raw identifier to its final status: the keys parsed as QIDO-RS parses them
 * (the same matching), audited before the first answer and completed after the last, answered
 * level by level within the cap. Failures end with a status and an ErrorComment that names keys,
 * never values; nothing internal is sent.
 */

export type InformationModel = 'StudyRoot' | 'PatientRoot';

export interface FindDeps {
  store: ReceiverStore;
  clients: DicomClientStore;
  log: Logger;
  /** Answers per query at most (RECEIVER_DICOM_MAX_RESULTS). */
  maxResults: number;
}

export interface FindEnd {
  status: number;
  comment?: string;
  answers: number;
}

/** The levels each model has (PS3.4 C.6.1, C.6.2); SERIES and IMAGE exist but this index holds no such records. */
function levelOf(model: InformationModel, level: string): 'STUDY' | 'PATIENT' {
  if (level === 'STUDY' || (level === 'PATIENT' && model === 'PatientRoot')) return level;
  if (level === 'SERIES' || level === 'IMAGE') {
    throw new FindFailure(STATUS.unableToProcess, "study level only: series and images are at the centre's PACS");
  }
  throw new FindFailure(STATUS.identifierDoesNotMatch, `QueryRetrieveLevel must be ${model === 'PatientRoot' ? 'PATIENT or STUDY' : 'STUDY'}`);
}

function parsed(raw: Buffer | null, explicit: boolean): FindKeys {
  if (raw === null) throw new FindFailure(STATUS.identifierDoesNotMatch, 'the C-FIND request has no identifier');
  try {
    return findKeys(readIdentifier(raw, explicit, dictionaryVr));
  } catch (err) {
    if (err instanceof IdentifierError) throw new FindFailure(STATUS.identifierDoesNotMatch, err.message);
    throw err;
  }
}

function qido(keys: FindKeys, maxResults: number): QidoQuery {
  try {
    return parseQido(keys.values, { maxResults, maxOffset: 0 });
  } catch (err) {
    if (err instanceof ApiError) throw new FindFailure(STATUS.unableToProcess, err.message);
    throw err;
  }
}

/** The match with the centres its centre keys select (the directory is read only when a name is matched). */
async function withCenters(store: ReceiverStore, q: QidoQuery): Promise<StudyMatch> {
  if (!q.centers) return q.match;
  const codes = q.centers.institution === undefined ? q.centers.codes! : centersOf(q.centers, await store.access.centerDirectory());
  return { ...q.match, centers: codes };
}

/** What a failure answers; an unexpected one is logged (by code only) and answered without detail. */
function failureOf(err: unknown, log: Logger): FindFailure {
  if (err instanceof FindFailure) return err;
  if (err instanceof QueryTooBroadError) return new FindFailure(STATUS.outOfResources, 'the query is too broad: narrow it (a date range, a patient)', 413);
  if (err instanceof StoreUnavailableError) return new FindFailure(STATUS.outOfResources, 'the index is unavailable: retry later', 503);
  log.error({ err: safeError(err) }, 'C-FIND failed');
  return new FindFailure(STATUS.unableToProcess, 'the index could not answer this query', 500);
}

async function answer(deps: FindDeps, keys: FindKeys, model: InformationModel, sink: FindSink): Promise<LevelEnd> {
  const level = levelOf(model, keys.level);
  const scoped = level === 'PATIENT' ? patientLevelOnly(keys) : keys;
  const match = await withCenters(deps.store, qido(scoped, deps.maxResults));
  const run = { store: deps.store, match, keys: scoped, cap: deps.maxResults, sink };
  return level === 'STUDY' ? studyLevel(run) : patientLevel(run);
}

/** The sink with a count of the answers it delivered. */
function counted(sink: FindSink): { sink: FindSink; sent: () => number } {
  let sent = 0;
  return {
    sink: {
      answer: async (elements, charset) => {
        const delivered = await sink.answer(elements, charset);
        if (delivered) sent += 1;
        return delivered;
      },
      cancelled: () => sink.cancelled(),
    },
    sent: () => sent,
  };
}

function parseOrFail(raw: Buffer | null, explicit: boolean, log: Logger): { keys: FindKeys | null; failure: FindFailure | null } {
  try {
    return { keys: parsed(raw, explicit), failure: null };
  } catch (err) {
    return { keys: null, failure: failureOf(err, log) };
  }
}

export async function runFind(deps: FindDeps, caller: FindCaller, model: InformationModel, raw: Buffer | null, explicit: boolean, sink: FindSink): Promise<FindEnd> {
  const started = performance.now();
  const out = counted(sink);
  const { keys, failure } = parseOrFail(raw, explicit, deps.log);
  const audit = findAudit(deps.clients, caller, model, keys);
  let end: LevelEnd | FindFailure;
  try {
    // Audited before anything is answered: a query whose row cannot be written is not run.
    await audit.start();
    end = failure ?? (await answer(deps, keys!, model, out.sink));
  } catch (err) {
    end = failureOf(err, deps.log);
  }
  const ms = Math.round(performance.now() - started);
  const audited = await audit.finish(end, out.sent(), ms).then(() => true, (err: unknown) => {
    deps.log.error({ err: safeError(err) }, 'C-FIND audit could not be completed');
    return false;
  });
  deps.log.info({
    calling_aet: caller.callingAet, model, level: keys?.level ?? null, charset: keys?.answerCharset ?? null,
    answers: out.sent(), status: hex(end.status), ms, audited,
  }, 'C-FIND answered');
  return { status: end.status, ...(end.comment ? { comment: end.comment } : {}), answers: out.sent() };
}
