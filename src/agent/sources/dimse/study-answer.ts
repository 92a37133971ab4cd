import { isCalendarDate, parseBirthdate, parseCount, parseIntegerText } from '../../../shared/record-values.js';
import { valueReader, type ValueReader } from './answer-values.js';

/**
 * One study-level C-FIND answer as a plain object: the values a study record needs, read the
 * same way whatever the server (see answer-values.ts for the shapes and character sets).
 * Unknown is null, never a made-up 0 or '': a server that does not return a key (DCMTK's
 * dcmqrscp returns neither ModalitiesInStudy nor the counts) gives null counts and no modalities.
 */
export interface StudyAnswer {
  studyInstanceUid: string;
  patientId: string | null;
  issuerOfPatientId: string | null;
  /** DICOM PN `FAMILY^GIVEN^MIDDLE^PREFIX^SUFFIX` (alphabetic group; trailing empty components trimmed). */
  patientName: string | null;
  /** YYYY-MM-DD. */
  patientBirthDate: string | null;
  patientSex: string | null;
  /** YYYY-MM-DDTHH:MM:SS, the PACS's local time: StudyDate + StudyTime (no time: midnight). */
  studyDateTime: string | null;
  accessionNumber: string | null;
  studyId: string | null;
  studyDescription: string | null;
  /** DICOM PN, like patientName. */
  referringPhysician: string | null;
  /** ModalitiesInStudy: upper-cased, distinct, in the server's order; [] when not returned. */
  modalities: string[];
  /** NumberOfStudyRelatedSeries; null when not returned, empty or unusable. */
  series: number | null;
  /** NumberOfStudyRelatedInstances; null when not returned, empty or unusable. */
  instances: number | null;
  /** Fields that held a value that is not usable (it became null or, for a bad time, midnight): for counting. */
  invalid: InvalidField[];
}

export type InvalidField = 'patientBirthDate' | 'studyDateTime' | 'series' | 'instances';

/** The return keys a study-level query asks for (the library adds most; these complete the record). */
export const RETURN_KEYS = [
  'StudyInstanceUID', 'PatientID', 'IssuerOfPatientID', 'PatientName', 'PatientBirthDate', 'PatientSex',
  'StudyDate', 'StudyTime', 'AccessionNumber', 'StudyID', 'StudyDescription', 'ReferringPhysicianName',
  'ModalitiesInStudy', 'NumberOfStudyRelatedSeries', 'NumberOfStudyRelatedInstances',
] as const;

/** DICOM TM (`HHMMSS.ffffff`, `HHMM`, `HH`, the old `HH:MM:SS`) → `HH:MM:SS`; null if unusable. */
export function dicomTime(raw: string): string | null {
  const m = /^(\d{2})(\d{2})?(\d{2})?(?:\.\d{0,6})?$/.exec(raw.replace(/:/g, ''));
  if (!m) return null;
  const [, h, mi = '00', s = '00'] = m;
  // 60 is a leap second in DICOM TM; the record's local time has no room for it.
  return Number(h) > 23 || Number(mi) > 59 || Number(s) > 59 ? null : `${h}:${mi}:${s}`;
}

/** StudyDate (+ StudyTime) → `YYYY-MM-DDTHH:MM:SS`; `invalid` when a value present was unusable. */
export function studyDateTime(date: string | null, time: string | null): { value: string | null; invalid: boolean } {
  if (date === null) return { value: null, invalid: false };
  const m = /^(\d{4})[-.]?(\d{2})[-.]?(\d{2})$/.exec(date);
  if (!m || !isCalendarDate(Number(m[1]), Number(m[2]), Number(m[3]))) return { value: null, invalid: true };
  const day = `${m[1]}-${m[2]}-${m[3]}`;
  if (time === null) return { value: `${day}T00:00:00`, invalid: false };
  const hms = dicomTime(time);
  return hms === null ? { value: `${day}T00:00:00`, invalid: true } : { value: `${day}T${hms}`, invalid: false };
}

/** An IS count: a number, or digits as text; absent/empty → null; anything else → null and invalid. */
export function studyCount(raw: unknown): { value: number | null; invalid: boolean } {
  const first = Array.isArray(raw) ? raw[0] : raw;
  if (first === undefined || first === null || (typeof first === 'string' && first.trim() === '')) return { value: null, invalid: false };
  const n = typeof first === 'number' ? first : typeof first === 'string' ? parseIntegerText(first.trim()) : null;
  if (n === null) return { value: null, invalid: true };
  return parseCount(n);
}

function distinctUpper(values: readonly string[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    const m = v.toUpperCase();
    if (!out.includes(m)) out.push(m);
  }
  return out;
}

function datesAndCounts(r: ValueReader): Pick<StudyAnswer, 'patientBirthDate' | 'studyDateTime' | 'series' | 'instances' | 'invalid'> {
  const invalid: InvalidField[] = [];
  const birth = parseBirthdate(r.text('PatientBirthDate'));
  if (birth.invalid) invalid.push('patientBirthDate');
  const when = studyDateTime(r.text('StudyDate'), r.text('StudyTime'));
  if (when.invalid) invalid.push('studyDateTime');
  const series = studyCount(r.raw('NumberOfStudyRelatedSeries'));
  if (series.invalid) invalid.push('series');
  const instances = studyCount(r.raw('NumberOfStudyRelatedInstances'));
  if (instances.invalid) invalid.push('instances');
  return { patientBirthDate: birth.value, studyDateTime: when.value, series: series.value, instances: instances.value, invalid };
}

/** A record's study_iuid must be printable ASCII (its column holds 255); one value, not a list. */
const USABLE_UID = /^[\x21-\x5b\x5d-\x7e]{1,255}$/;

/**
 * One answer's dataset elements → a StudyAnswer; null when it has no usable StudyInstanceUID
 * (absent, blank, several values, not printable ASCII): without one the study has no identity.
 */
export function toStudyAnswer(elements: Record<string, unknown>): StudyAnswer | null {
  const r = valueReader(elements);
  const studyInstanceUid = r.text('StudyInstanceUID');
  if (studyInstanceUid === null || !USABLE_UID.test(studyInstanceUid)) return null;
  return {
    studyInstanceUid,
    patientId: r.text('PatientID'),
    issuerOfPatientId: r.text('IssuerOfPatientID'),
    patientName: r.personName('PatientName'),
    patientSex: r.text('PatientSex'),
    accessionNumber: r.text('AccessionNumber'),
    studyId: r.text('StudyID'),
    studyDescription: r.text('StudyDescription'),
    referringPhysician: r.personName('ReferringPhysicianName'),
    modalities: distinctUpper(r.list('ModalitiesInStudy')),
    ...datesAndCounts(r),
  };
}
