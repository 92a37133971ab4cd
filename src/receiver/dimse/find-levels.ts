import { parseRut, patientKey } from '../../shared/patient-key.js';
import type { ReceiverStore } from '../store/receiver-store.js';
import type { Keyset, MatchedStudy, StudyMatch } from '../store/study-match.js';
import { patientAnswer, studyAnswer, type PatientSummary } from './find-answers.js';
import type { FindKeys } from './find-keys.js';
import { STATUS } from './find-status.js';
import type { AnswerCharset } from './charsets.js';
import type { AnswerElement } from './identifier-writer.js';

/**
 * The two levels' answers, streamed page by page from the store (never every match in memory):
 * STUDY sends each matching study; PATIENT groups the matching studies by patient.
 */

export interface FindSink {
  /** Sends one pending answer, its text in `charset`; false when the association is gone. */
  answer(elements: AnswerElement[], charset: AnswerCharset): Promise<boolean>;
  /** The client sent C-CANCEL for this query. */
  cancelled(): boolean;
}

export interface LevelEnd {
  status: number;
  comment?: string;
  answers: number;
  outcome: 'complete' | 'capped' | 'cancelled' | 'aborted';
}

export interface LevelRun {
  store: ReceiverStore;
  match: StudyMatch;
  keys: FindKeys;
  /** Answers at most (RECEIVER_DICOM_MAX_RESULTS). */
  cap: number;
  sink: FindSink;
}

const STUDY_PAGE = 100;
const PATIENT_PAGE = 500;
/** The patient level reads at most this many matching studies per answer it may send. */
const STUDIES_PER_PATIENT = 10;

const cancelled = (answers: number): LevelEnd => ({ status: STATUS.cancel, answers, outcome: 'cancelled' });
const aborted = (answers: number): LevelEnd => ({ status: STATUS.cancel, answers, outcome: 'aborted' });
const capped = (answers: number, what: string): LevelEnd =>
  ({ status: STATUS.cancel, comment: `more than ${answers} ${what} match: narrow the query`, answers, outcome: 'capped' });

export async function studyLevel(run: LevelRun): Promise<LevelEnd> {
  let answers = 0;
  let after: Keyset | null = null;
  for (;;) {
    const page = await run.store.match(run.match, { limit: Math.min(STUDY_PAGE, run.cap - answers), after });
    for (const row of page.rows) {
      if (run.sink.cancelled()) return cancelled(answers);
      if (!(await run.sink.answer(studyAnswer(row, run.keys.returnTags, run.keys.answerCharset), run.keys.answerCharset))) return aborted(answers);
      answers += 1;
    }
    if (run.sink.cancelled()) return cancelled(answers);
    if (!page.more) return { status: STATUS.success, answers, outcome: 'complete' };
    if (answers >= run.cap) return capped(answers, 'studies');
    after = page.next;
  }
}

interface Identity {
  id: string;
  /** How the patient's own studies are counted: by patient key, and for a local id its centre and spelling. */
  match: Pick<StudyMatch, 'patientKey' | 'patientId' | 'centers'>;
}

interface Patient extends PatientSummary, Identity {}

/**
 * A RUT is national: one patient across centres, whatever its spelling. Any other id names a
 * patient within its centre only, exactly as written (`abc-1` and `ABC-1` are two patients, as
 * PatientID matching has them); a study without an id belongs to no patient.
 */
function identityOf(s: MatchedStudy): Identity | null {
  const key = patientKey(s.record.patient_id);
  if (key === null) return null;
  if (parseRut(s.record.patient_id ?? '') !== null) return { id: `rut:${key}`, match: { patientKey: key } };
  const raw = s.record.patient_id!.trim();
  return { id: `${s.center.code}:${raw}`, match: { patientKey: key, patientId: { equals: raw }, centers: [s.center.code] } };
}

function add(patients: Map<string, Patient>, s: MatchedStudy, cap: number): boolean {
  const who = identityOf(s);
  if (!who) return true;
  const known = patients.get(who.id);
  const aet = s.center.retrieveAet?.trim();
  if (known) {
    known.studies = (known.studies ?? 0) + 1;
    if (aet && !known.retrieveAets.includes(aet)) known.retrieveAets.push(aet);
    return true;
  }
  if (patients.size >= cap) return false;
  patients.set(who.id, { ...who, newest: s, studies: 1, retrieveAets: aet ? [aet] : [] });
  return true;
}

/** Distinct patients in the order of their newest matching study; `complete`: every match was read. */
async function collectPatients(run: LevelRun): Promise<{ patients: Patient[]; complete: boolean; more: boolean }> {
  const patients = new Map<string, Patient>();
  let after: Keyset | null = null;
  for (let read = 0; read < run.cap * STUDIES_PER_PATIENT;) {
    const page = await run.store.match(run.match, { limit: PATIENT_PAGE, after });
    read += page.rows.length;
    for (const row of page.rows) if (!add(patients, row, run.cap)) return { patients: [...patients.values()], complete: false, more: true };
    if (!page.more) return { patients: [...patients.values()], complete: true, more: false };
    if (run.sink.cancelled()) break;
    after = page.next;
  }
  return { patients: [...patients.values()], complete: false, more: false };
}

export async function patientLevel(run: LevelRun): Promise<LevelEnd> {
  const { patients, complete, more } = await collectPatients(run);
  let answers = 0;
  for (const p of patients) {
    if (run.sink.cancelled()) return cancelled(answers);
    // Not every match was read: the patient's own studies are counted (an index read on patient_key).
    if (!complete) p.studies = await run.store.count({ ...run.match, ...p.match });
    if (!(await run.sink.answer(patientAnswer(p, run.keys.returnTags, run.keys.answerCharset), run.keys.answerCharset))) return aborted(answers);
    answers += 1;
  }
  if (run.sink.cancelled()) return cancelled(answers);
  if (more) return capped(answers, 'patients');
  if (!complete) return { status: STATUS.cancel, comment: 'too many matching studies to list patients: narrow the query', answers, outcome: 'capped' };
  return { status: STATUS.success, answers, outcome: 'complete' };
}
