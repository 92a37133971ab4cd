import { fitRecordToColumns } from '../../../shared/record-limits.js';
import { cleanText, isCalendarDate, parseBirthdate, type ParsedValue } from '../../../shared/record-values.js';
import type { StudyRecord } from '../../../shared/study-record.js';
import type { ConversionStats } from '../../record/conversion-stats.js';
import type { OrthancSeries, OrthancStudy, OrthancTags } from './orthanc-client.js';

/**
 * An Orthanc study (its main DICOM tags, decoded to UTF-8 by Orthanc) and its series, mapped to
 * the contract's record. Orthanc has no numeric keys on its REST API, so study_pk and patient_pk
 * are null (docs/orthanc.md).
 */

/** A tag's text, or null when absent, empty or blank (Orthanc gives "" for present-but-empty tags). */
function tag(tags: OrthancTags | undefined, name: string): string | null {
  const v = tags?.[name];
  return typeof v === 'string' ? (cleanText(v)?.trim() ?? null) : null;
}

const NONE: ParsedValue = { value: null, invalid: false };
const INVALID: ParsedValue = { value: null, invalid: true };

/** DICOM TM (`HHMMSS.ffffff`, `HHMM`, `HH`, old `HH:MM:SS`) → `HH:MM:SS`, or null if unusable. */
function parseTime(raw: string | null): string | null {
  if (raw === null) return '00:00:00';
  const m = /^(\d{2})(\d{2})?(\d{2})?(?:\.\d*)?$/.exec(raw.replace(/:/g, ''));
  if (!m) return null;
  const [, h, mi = '00', s = '00'] = m;
  // 60 is a leap second in DICOM TM; the contract's local time has no room for it.
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return null;
  return `${h}:${mi}:${s}`;
}

/**
 * StudyDate + StudyTime → `YYYY-MM-DDTHH:MM:SS` in the centre's local time. No date: null; an
 * impossible date: null and counted. An unreadable time keeps the date at midnight (the day is
 * what searches use) and is counted too.
 */
export function studyDateTime(dateRaw: string | null, timeRaw: string | null): ParsedValue {
  if (dateRaw === null) return NONE;
  const m = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(dateRaw);
  if (!m || !isCalendarDate(Number(m[1]), Number(m[2]), Number(m[3]))) return INVALID;
  const day = `${m[1]}-${m[2]}-${m[3]}`;
  const time = parseTime(timeRaw);
  return time === null ? { value: `${day}T00:00:00`, invalid: true } : { value: `${day}T${time}`, invalid: false };
}

/** The series' Modality tags in series order, distinct, upper-cased. */
export function seriesModalities(series: readonly OrthancSeries[]): string[] {
  const out: string[] = [];
  for (const s of series) {
    const m = tag(s.MainDicomTags, 'Modality')?.toUpperCase();
    if (m && !out.includes(m)) out.push(m);
  }
  return out;
}

/** Returns null (and counts it) when the study has no StudyInstanceUID, the record's identity. */
export function mapOrthancStudy(
  study: OrthancStudy, series: readonly OrthancSeries[], center: string, sourceSeq: number, stats: ConversionStats,
): StudyRecord | null {
  const s = study.MainDicomTags;
  const p = study.PatientMainDicomTags;
  const iuid = tag(s, 'StudyInstanceUID');
  if (!iuid) {
    stats.missing_iuid += 1;
    return null;
  }
  const when = studyDateTime(tag(s, 'StudyDate'), tag(s, 'StudyTime'));
  if (when.invalid) stats.invalid_study_datetime += 1;
  const birth = parseBirthdate(tag(p, 'PatientBirthDate'));
  if (birth.invalid) stats.invalid_birthdate += 1;
  const modalities = seriesModalities(series);
  const record: StudyRecord = {
    center,
    study_iuid: iuid,
    study_pk: null,
    patient_pk: null,
    patient_id: tag(p, 'PatientID'),
    // Not a main DICOM tag by default: present only if Orthanc is configured to index it.
    patient_id_issuer: tag(p, 'IssuerOfPatientID') ?? tag(s, 'IssuerOfPatientID'),
    patient_name: tag(p, 'PatientName'),
    patient_birthdate: birth.value,
    patient_sex: tag(p, 'PatientSex'),
    study_datetime: when.value,
    study_description: tag(s, 'StudyDescription'),
    study_modality: modalities.length > 0 ? modalities.join('\\') : null,
    modalities,
    study_series: series.length,
    study_instances: series.reduce((n, x) => n + (x.Instances?.length ?? 0), 0),
    accession_no: tag(s, 'AccessionNumber'),
    study_id: tag(s, 'StudyID'),
    referring_physician: tag(s, 'ReferringPhysicianName'),
    source_seq: sourceSeq,
    deleted: false,
  };
  if (fitRecordToColumns(record).length > 0) stats.truncated += 1;
  return record;
}
