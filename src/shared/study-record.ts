/**
 * The study record of the public contract (shared/spec/contract.md): one JSON object per study,
 * the unit the agent sends and the receiver stores. Field names and meanings are fixed by the
 * contract; more fields may be added, receivers ignore unknown ones.
 */
export interface StudyRecord {
  center: string;
  study_iuid: string;
  study_pk: number | null;
  patient_pk: number | null;
  patient_id: string | null;
  patient_id_issuer: string | null;
  /** DICOM PN as stored: FAMILY^GIVEN^MIDDLE. */
  patient_name: string | null;
  /** YYYY-MM-DD. */
  patient_birthdate: string | null;
  patient_sex: string | null;
  /** YYYY-MM-DDTHH:MM:SS, the centre's local time. */
  study_datetime: string | null;
  study_description: string | null;
  /** mods_in_study as stored, e.g. "CT\\SR". */
  study_modality: string | null;
  modalities: string[];
  study_series: number;
  study_instances: number;
  accession_no: string | null;
  study_id: string | null;
  referring_physician: string | null;
  /** Version: grows with every change at a centre; the receiver keeps the highest. */
  source_seq: number;
  /** A tombstone: the study no longer exists at the centre. */
  deleted: boolean;
  /** Extra field (the contract allows more): fingerprint for reconciliation, see content-hash.ts. */
  content_hash?: string;
}

/** The record keys in contract order (used by tests and by the legacy mapping). */
export const STUDY_RECORD_FIELDS = [
  'center', 'study_iuid', 'study_pk', 'patient_pk', 'patient_id', 'patient_id_issuer', 'patient_name',
  'patient_birthdate', 'patient_sex', 'study_datetime', 'study_description', 'study_modality', 'modalities',
  'study_series', 'study_instances', 'accession_no', 'study_id', 'referring_physician', 'source_seq', 'deleted',
] as const satisfies readonly (keyof StudyRecord)[];

/** Splits mods_in_study ("CT\\SR", "CT\\\\SR ", "") into distinct, trimmed, upper-cased modalities. */
export function splitModalities(mods: string | null): string[] {
  if (!mods) return [];
  const out: string[] = [];
  for (const part of mods.split('\\')) {
    const m = part.trim().toUpperCase();
    if (m && !out.includes(m)) out.push(m);
  }
  return out;
}
