import { studyToDicomJson, type DicomAttribute, type PersonName } from '../dicomweb/dicom-json.js';
import type { MatchedStudy } from '../store/study-match.js';
import type { AnswerCharset } from './charsets.js';
import { dictionaryVr, NUMBER_OF_PATIENT_RELATED_STUDIES, QUERY_RETRIEVE_LEVEL, SPECIFIC_CHARACTER_SET } from './find-keys.js';
import type { AnswerElement } from './identifier-writer.js';

/**
 * A study (or a patient) as a C-FIND answer: the return keys the identifier asked for, with the
 * values QIDO-RS gives the same study (one renderer, so both interfaces agree), plus what every
 * answer carries — SpecificCharacterSet, QueryRetrieveLevel, the level's unique key and, when
 * the centre registered it, RetrieveAETitle.
 */

const STUDY_INSTANCE_UID = '0020000D';
const RETRIEVE_AE_TITLE = '00080054';
const PATIENT_ID = '00100020';
const EVERYTHING = { all: true, tags: new Set<string>() } as const;

/** A PN's groups as DICOM writes them: `Alphabetic=Ideographic=Phonetic`, trailing empty groups dropped. */
function pnText(v: PersonName): string {
  return [v.Alphabetic ?? '', v.Ideographic ?? '', v.Phonetic ?? ''].join('=').replace(/=+$/, '');
}

function valuesOf(a: DicomAttribute | undefined): string[] {
  return (a?.Value ?? []).map((v) => (typeof v === 'object' ? pnText(v) : String(v)));
}

function common(level: 'STUDY' | 'PATIENT', charset: AnswerCharset): AnswerElement[] {
  return [
    { tag: SPECIFIC_CHARACTER_SET, vr: 'CS', values: [charset] },
    { tag: QUERY_RETRIEVE_LEVEL, vr: 'CS', values: [level] },
  ];
}

/** The asked tags (and `always`) from the study's DICOM JSON; one asked for but absent is sent empty. */
function fromJson(json: Record<string, DicomAttribute>, tags: Iterable<string>): AnswerElement[] {
  return [...tags].map((tag) => ({ tag, vr: json[tag]?.vr ?? dictionaryVr(tag), values: valuesOf(json[tag]) }));
}

export function studyAnswer(s: MatchedStudy, returnTags: ReadonlySet<string>, charset: AnswerCharset): AnswerElement[] {
  const json = studyToDicomJson(s, EVERYTHING);
  const tags = new Set([...returnTags, STUDY_INSTANCE_UID]);
  if (json[RETRIEVE_AE_TITLE]) tags.add(RETRIEVE_AE_TITLE);
  tags.delete(SPECIFIC_CHARACTER_SET);
  tags.delete(QUERY_RETRIEVE_LEVEL);
  return [...common('STUDY', charset), ...fromJson(json, tags)];
}

/** A patient as the patient level sees it: their newest matching study, how many match, where they are. */
export interface PatientSummary {
  newest: MatchedStudy;
  studies: number | null;
  /** The registered AE titles of the centres holding the studies seen. */
  retrieveAets: string[];
}

export function patientAnswer(p: PatientSummary, returnTags: ReadonlySet<string>, charset: AnswerCharset): AnswerElement[] {
  const json = studyToDicomJson(p.newest, EVERYTHING);
  const tags = new Set([...returnTags, PATIENT_ID]);
  for (const tag of [SPECIFIC_CHARACTER_SET, QUERY_RETRIEVE_LEVEL, NUMBER_OF_PATIENT_RELATED_STUDIES, RETRIEVE_AE_TITLE]) tags.delete(tag);
  const out = [...common('PATIENT', charset), ...fromJson(json, [...tags].filter((t) => t.startsWith('0010')))];
  if (returnTags.has(NUMBER_OF_PATIENT_RELATED_STUDIES)) {
    out.push({ tag: NUMBER_OF_PATIENT_RELATED_STUDIES, vr: 'IS', values: p.studies === null ? [] : [String(p.studies)] });
  }
  if (p.retrieveAets.length > 0 || returnTags.has(RETRIEVE_AE_TITLE)) out.push({ tag: RETRIEVE_AE_TITLE, vr: 'AE', values: p.retrieveAets });
  return out;
}
