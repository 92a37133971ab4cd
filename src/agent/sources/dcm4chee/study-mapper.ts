import { fitRecordToColumns } from '../../../shared/record-limits.js';
import { parseBirthdate, parseCount, parseDateTime } from '../../../shared/record-values.js';
import { splitModalities, type StudyRecord } from '../../../shared/study-record.js';
import type { ConversionStats } from '../../record/conversion-stats.js';
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
    // dcm4chee maintains these columns: a NULL is a messy row, unknown (null), not "no series".
    study_series: toCount(row.num_series, stats),
    study_instances: toCount(row.num_instances, stats),
    accession_no: decodeText(row.accession_no),
    study_id: decodeText(row.study_id),
    referring_physician: decodeText(row.ref_physician),
    source_seq: sourceSeq,
    deleted: false,
  };
  if (fitRecordToColumns(record).length > 0) stats.truncated += 1;
  return record;
}
