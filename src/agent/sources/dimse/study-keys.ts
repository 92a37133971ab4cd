import { isCalendarDate } from '../../../shared/record-values.js';
import { DimseError } from './dimse-errors.js';

/**
 * Matching keys of a study-level C-FIND (PS3.4 C.6.2), by DICOM keyword, as DICOM matching values:
 * an absent key matches everything. Examples: `StudyDate: '20240101-20240131'` (a range; `-2024…`
 * and `2024…-` are open), `StudyInstanceUID: [uid1, uid2]` (a UID list), `ModalitiesInStudy: 'CT'`,
 * `PatientID: 'AB*'` (wildcards `*` and `?`). Values are printable ASCII: the request declares no
 * character set, and the crawl matches on dates, UIDs and codes.
 */
export interface StudyKeys {
  StudyInstanceUID?: string | readonly string[];
  StudyDate?: string;
  StudyTime?: string;
  PatientID?: string;
  IssuerOfPatientID?: string;
  PatientName?: string;
  PatientBirthDate?: string;
  PatientSex?: string;
  AccessionNumber?: string;
  StudyID?: string;
  StudyDescription?: string;
  ReferringPhysicianName?: string;
  /** One modality, or several separated by `\` (any of them). */
  ModalitiesInStudy?: string;
}

type Rule = (value: string) => string | null;

// A UID list travels in one element, whose length has 16 bits in Explicit VR: 500 UIDs stay well under.
const MAX_UIDS = 500;
const PRINTABLE = /^[\x20-\x5b\x5d-\x7e]*$/; // printable ASCII without the `\` value separator

const text = (max: number): Rule => (v) =>
  !PRINTABLE.test(v) ? 'printable ASCII without `\\`' : v.length > max ? `at most ${max} characters` : null;

const DATE_PART = /^\d{8}$/;
function datePart(part: string): boolean {
  if (part === '') return true;
  return DATE_PART.test(part) && isCalendarDate(Number(part.slice(0, 4)), Number(part.slice(4, 6)), Number(part.slice(6, 8)));
}

const dateRange: Rule = (v) => {
  const parts = v.split('-');
  const ok = v !== '-' && parts.length <= 2 && parts.every(datePart) && (parts.length === 2 || parts[0] !== '');
  if (!ok) return 'a date YYYYMMDD or a range YYYYMMDD-YYYYMMDD (either end may be open)';
  const [from = '', to = ''] = parts;
  return parts.length === 2 && from !== '' && to !== '' && from > to ? 'a range whose start is not after its end' : null;
};

const TIME_PART = /^([01]\d|2[0-3])([0-5]\d([0-5]\d(\.\d{1,6})?)?)?$/;
const timeRange: Rule = (v) => {
  const parts = v.split('-');
  const ok = v !== '-' && parts.length <= 2 && parts.every((p) => p === '' || TIME_PART.test(p));
  return ok ? null : 'a time HHMMSS or a range HHMMSS-HHMMSS (either end may be open)';
};

const UID = /^(0|[1-9]\d*)(\.(0|[1-9]\d*))*$/;
function uidList(values: readonly string[]): string | null {
  if (values.length === 0 || values.length > MAX_UIDS) return `1 to ${MAX_UIDS} UIDs`;
  return values.every((u) => typeof u === 'string' && u.length <= 64 && UID.test(u)) ? null : 'UIDs (digits and dots, at most 64 characters each)';
}

const MODALITY = /^[A-Z0-9_ *?]{1,16}$/;
const modalities: Rule = (v) =>
  v.split('\\').every((m) => MODALITY.test(m)) ? null : 'modality codes (A-Z, 0-9, _, at most 16 characters), separated by `\\`';

const RULES: Readonly<Record<Exclude<keyof StudyKeys, 'StudyInstanceUID'>, Rule>> = {
  StudyDate: dateRange,
  StudyTime: timeRange,
  PatientBirthDate: dateRange,
  PatientID: text(64),
  IssuerOfPatientID: text(64),
  PatientName: text(64),
  PatientSex: text(16),
  AccessionNumber: text(16),
  StudyID: text(16),
  StudyDescription: text(64),
  ReferringPhysicianName: text(64),
  ModalitiesInStudy: modalities,
};

function invalid(key: string, expected: string): DimseError {
  // The key's name is the caller's code; its value may be a patient's, so it is never quoted.
  return new DimseError('INVALID_QUERY', `findStudies: matching key ${key} must be ${expected}`);
}

/**
 * The keys as request elements (keyword → value; several values as an array: dcmjs checks a
 * value's length against its VR's maximum on the joined string and cuts a `\`-joined UID list
 * at 64 characters); throws INVALID_QUERY naming the key.
 */
export function matchingElements(keys: StudyKeys): Record<string, string | string[]> {
  if (keys === null || typeof keys !== 'object' || Array.isArray(keys)) throw invalid('(all)', 'an object of DICOM keywords');
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(keys)) {
    if (value === undefined) continue;
    // An empty value is universal matching: the key is only asked back, whatever its kind.
    if (value === '' && (key === 'StudyInstanceUID' || Object.hasOwn(RULES, key))) {
      out[key] = '';
      continue;
    }
    if (key === 'StudyInstanceUID') {
      const list: unknown = typeof value === 'string' ? value.split('\\') : value;
      const problem = Array.isArray(list) ? uidList(list) : 'a UID or an array of UIDs';
      if (problem) throw invalid(key, problem);
      const uids = list as string[];
      out[key] = uids.length === 1 ? uids[0]! : [...uids];
      continue;
    }
    const rule = Object.hasOwn(RULES, key) ? RULES[key as keyof typeof RULES] : undefined;
    if (!rule) throw invalid(JSON.stringify(key.slice(0, 40)), `one of StudyInstanceUID, ${Object.keys(RULES).join(', ')}`);
    const problem = typeof value === 'string' ? rule(value) : 'a string';
    if (problem) throw invalid(key, problem);
    out[key] = key === 'ModalitiesInStudy' && value.includes('\\') ? value.split('\\') : value;
  }
  return out;
}
