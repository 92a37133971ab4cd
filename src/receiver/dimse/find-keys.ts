import { attributeOf, PRIVATE_CREATOR, type QidoAttribute } from '../dicomweb/qido-keys.js';
import type { QueryValues } from '../dicomweb/qido-params.js';
import { CharsetError, hasEscape, requestCharset, type AnswerCharset } from './charsets.js';
import { FindFailure, STATUS } from './find-status.js';
import type { RawElement } from './identifier-reader.js';

/**
 * A C-FIND identifier's elements → what QIDO-RS's parser takes (the same keys by tag, so the same
 * matching), the level, the return keys and the answer's character set. A C-FIND key is a QIDO
 * key: universal (empty) or a value, any VR checked against the dictionary.
 */

export const QUERY_RETRIEVE_LEVEL = '00080052';
export const SPECIFIC_CHARACTER_SET = '00080005';
export const NUMBER_OF_PATIENT_RELATED_STUDIES = '00201200';
const PRIVATE_CREATOR_TAG = '00090010';

/** Keys of C-FIND that QIDO-RS does not have: the level, and the patient level's study count. */
const FIND_ONLY: Record<string, { keyword: string; vr: string }> = {
  [QUERY_RETRIEVE_LEVEL]: { keyword: 'QueryRetrieveLevel', vr: 'CS' },
  [NUMBER_OF_PATIENT_RELATED_STUDIES]: { keyword: 'NumberOfPatientRelatedStudies', vr: 'IS' },
};

/** The dictionary's VR of a tag this service knows, else UN (Implicit VR identifiers carry none). */
export function dictionaryVr(tag: string): string {
  return FIND_ONLY[tag]?.vr ?? attributeOf(tag)?.vr ?? 'UN';
}

export function keywordOf(tag: string): string {
  return FIND_ONLY[tag]?.keyword ?? attributeOf(tag)?.keyword ?? `(${tag.slice(0, 4)},${tag.slice(4)})`;
}

const TEXT_VRS = new Set(['SH', 'LO', 'PN', 'ST', 'LT', 'UT', 'UC']);

export interface FindKeys {
  /** QueryRetrieveLevel, trimmed and upper-cased; '' when absent. */
  level: string;
  answerCharset: AnswerCharset;
  /** Every key with its value (tags as QIDO-RS accepts them), for parseQido. */
  values: QueryValues;
  /** Tags present in the identifier that this index can return. */
  returnTags: Set<string>;
  /** Keys given a value, by tag: what the audit records (by keyword). */
  matching: Record<string, string>;
}

/** A value as text: DICOM padding (trailing blanks, NUL) removed. */
function valueText(e: RawElement, decode: (b: Buffer) => string): string {
  const vr = e.vr === 'UN' ? dictionaryVr(e.tag) : e.vr;
  if (!TEXT_VRS.has(vr)) return e.value.toString('latin1').replace(/[\s\0]+$/, '');
  if (hasEscape(e.value)) throw new FindFailure(STATUS.unableToProcess, 'ISO 2022 code extensions are not supported');
  return decode(e.value).replace(/[\s\0]+$/, '');
}

/** A known key sent with another VR than the dictionary's (UN passes: a relay that did not know it). */
function checkVr(e: RawElement): void {
  const expected = FIND_ONLY[e.tag]?.vr ?? attributeOf(e.tag)?.vr;
  if (expected && e.vr !== expected && e.vr !== 'UN') {
    throw new FindFailure(STATUS.identifierDoesNotMatch, `${keywordOf(e.tag)} must have VR ${expected}, not ${e.vr}`);
  }
}

function charsetOf(elements: readonly RawElement[]): ReturnType<typeof requestCharset> {
  const declared = elements.find((e) => e.tag === SPECIFIC_CHARACTER_SET);
  try {
    return requestCharset(declared ? declared.value.toString('latin1').split('\\') : []);
  } catch (err) {
    if (err instanceof CharsetError) throw new FindFailure(STATUS.unableToProcess, err.message);
    throw err;
  }
}

/** The private centre code counts only under this index's own private creator. */
function privateOwned(elements: readonly RawElement[]): boolean {
  const creator = elements.find((e) => e.tag === PRIVATE_CREATOR_TAG);
  return creator !== undefined && creator.value.toString('latin1').replace(/[\s\0]+$/, '').trim() === PRIVATE_CREATOR;
}

function known(tag: string, owned: boolean): QidoAttribute | null {
  const a = attributeOf(tag);
  if (a?.private && !owned) return null;
  return a;
}

export function findKeys(elements: readonly RawElement[]): FindKeys {
  const charset = charsetOf(elements);
  const owned = privateOwned(elements);
  const out: FindKeys = { level: '', answerCharset: charset.answer, values: {}, returnTags: new Set(), matching: {} };
  for (const e of elements) {
    if (e.tag === SPECIFIC_CHARACTER_SET || (e.tag.startsWith('0009') && !owned)) continue;
    checkVr(e);
    if (e.vr === 'SQ') continue;
    const text = valueText(e, charset.decode);
    if (e.tag === QUERY_RETRIEVE_LEVEL) {
      out.level = text.trim().toUpperCase();
      continue;
    }
    if (known(e.tag, owned) || FIND_ONLY[e.tag]) out.returnTags.add(e.tag);
    if (e.tag in out.values) throw new FindFailure(STATUS.identifierDoesNotMatch, `${keywordOf(e.tag)} is given more than once`);
    out.values[e.tag] = text;
    if (text.trim() !== '' && !/^\*+$/.test(text.trim())) out.matching[e.tag] = text;
  }
  return out;
}

/** Keys of the patient level (Patient Root, PATIENT): the others are not matched nor returned there. */
export function patientLevelOnly(keys: FindKeys): FindKeys {
  const isPatientKey = (tag: string): boolean => tag.startsWith('0010') || tag === NUMBER_OF_PATIENT_RELATED_STUDIES;
  const only = (r: Record<string, string>) => Object.fromEntries(Object.entries(r).filter(([tag]) => isPatientKey(tag)));
  const values = only(keys.values as Record<string, string>);
  return { ...keys, values, matching: only(keys.matching), returnTags: new Set([...keys.returnTags].filter(isPatientKey)) };
}
