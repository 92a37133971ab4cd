import { fitRecordToColumns } from '../../shared/record-limits.js';
import { parseBirthdate, parseCount, parseDateTime } from '../../shared/record-values.js';
import { splitModalities, type StudyRecord } from '../../shared/study-record.js';
import { decodeText } from './text-decode.js';

type Text = Buffer | string | null;

/** A study joined with its (merge-resolved) patient, text columns as raw bytes. */
export interface StudyRow {
  study_pk: number | string;
  study_iuid: Text;
  study_id: Text;
  study_datetime: string | null;
  accession_no: Text;
  ref_physician: Text;
  study_desc: Text;
  mods_in_study: Text;
  num_series: number | string | null;
  num_instances: number | string | null;
  patient_pk: number | string | null;
  pat_id: Text;
  pat_id_issuer: Text;
  pat_name: Text;
  pat_birthdate: Text;
  pat_sex: Text;
}

/** Values that were present but unusable, per field, for the run summary. */
export interface ConversionStats {
  invalid_study_datetime: number;
  invalid_birthdate: number;
  /** Negative or overflowing num_series/num_instances: sent as 0, the receiver's "cannot tell". */
  invalid_count: number;
  /** Records whose free text or modalities were cut to fit the receiver's columns. */
  truncated: number;
  /** Rows without a usable study_iuid: cannot be identified, not sent. */
  missing_iuid: number;
}

export function emptyConversionStats(): ConversionStats {
  return { invalid_study_datetime: 0, invalid_birthdate: 0, invalid_count: 0, truncated: 0, missing_iuid: 0 };
}

export function addConversionStats(into: ConversionStats, from: ConversionStats): void {
  into.invalid_study_datetime += from.invalid_study_datetime;
  into.invalid_birthdate += from.invalid_birthdate;
  into.invalid_count += from.invalid_count;
  into.truncated += from.truncated;
  into.missing_iuid += from.missing_iuid;
}

function toInt(v: number | string | null): number | null {
  if (v === null || v === undefined) return null;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : null;
}

/** A count column → the record's count; out of range → null, counted. */
function toCount(v: number | string | null, stats: ConversionStats): number | null {
  const c = parseCount(toInt(v));
  if (c.invalid) stats.invalid_count += 1;
  return c.value;
}

/** Returns null (and counts it) when the row has no study_iuid, the record's identity. */
export function mapStudyRow(row: StudyRow, center: string, sourceSeq: number, stats: ConversionStats): StudyRecord | null {
  const iuid = decodeText(row.study_iuid)?.trim();
  if (!iuid) {
    stats.missing_iuid += 1;
    return null;
  }
  const when = parseDateTime(row.study_datetime);
  if (when.invalid) stats.invalid_study_datetime += 1;
  const birth = parseBirthdate(decodeText(row.pat_birthdate));
  if (birth.invalid) stats.invalid_birthdate += 1;
  const mods = decodeText(row.mods_in_study);
  const record: StudyRecord = {
    center,
    study_iuid: iuid,
    study_pk: toInt(row.study_pk),
    patient_pk: toInt(row.patient_pk),
    patient_id: decodeText(row.pat_id),
    patient_id_issuer: decodeText(row.pat_id_issuer),
    patient_name: decodeText(row.pat_name),
    patient_birthdate: birth.value,
    patient_sex: decodeText(row.pat_sex),
    study_datetime: when.value,
    study_description: decodeText(row.study_desc),
    study_modality: mods,
    modalities: splitModalities(mods),
    study_series: toCount(row.num_series, stats) ?? 0,
    study_instances: toCount(row.num_instances, stats) ?? 0,
    accession_no: decodeText(row.accession_no),
    study_id: decodeText(row.study_id),
    referring_physician: decodeText(row.ref_physician),
    source_seq: sourceSeq,
    deleted: false,
  };
  if (fitRecordToColumns(record).length > 0) stats.truncated += 1;
  return record;
}

/** A study that no longer exists at the centre; only its identity is known. */
export function tombstoneRecord(center: string, studyIuid: string, studyPk: number | null, sourceSeq: number): StudyRecord {
  return {
    center,
    study_iuid: studyIuid,
    study_pk: studyPk,
    patient_pk: null,
    patient_id: null,
    patient_id_issuer: null,
    patient_name: null,
    patient_birthdate: null,
    patient_sex: null,
    study_datetime: null,
    study_description: null,
    study_modality: null,
    modalities: [],
    study_series: 0,
    study_instances: 0,
    accession_no: null,
    study_id: null,
    referring_physician: null,
    source_seq: sourceSeq,
    deleted: true,
  };
}
