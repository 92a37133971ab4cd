import { fitRecordToColumns } from '../../../shared/record-limits.js';
import type { StudyRecord } from '../../../shared/study-record.js';
import type { ConversionStats } from '../../record/conversion-stats.js';
import type { StudyAnswer } from './study-answer.js';

/**
 * One C-FIND answer → the study record every source sends. A DICOM network source has no
 * primary keys (study_pk, patient_pk null) and may not know the counts (null: the server did not
 * say, e.g. DCMTK's dcmqrscp).
 */
export function answerRecord(answer: StudyAnswer, center: string, sourceSeq: number, stats: ConversionStats): StudyRecord {
  if (answer.invalid.includes('studyDateTime')) stats.invalid_study_datetime += 1;
  if (answer.invalid.includes('patientBirthDate')) stats.invalid_birthdate += 1;
  if (answer.invalid.includes('series') || answer.invalid.includes('instances')) stats.invalid_count += 1;
  const record: StudyRecord = {
    center,
    study_iuid: answer.studyInstanceUid,
    study_pk: null,
    patient_pk: null,
    patient_id: answer.patientId,
    patient_id_issuer: answer.issuerOfPatientId,
    patient_name: answer.patientName,
    patient_birthdate: answer.patientBirthDate,
    patient_sex: answer.patientSex,
    study_datetime: answer.studyDateTime,
    study_description: answer.studyDescription,
    study_modality: answer.modalities.length > 0 ? answer.modalities.join('\\') : null,
    modalities: answer.modalities,
    study_series: answer.series,
    study_instances: answer.instances,
    accession_no: answer.accessionNumber,
    study_id: answer.studyId,
    referring_physician: answer.referringPhysician,
    source_seq: sourceSeq,
    deleted: false,
  };
  if (fitRecordToColumns(record).length > 0) stats.truncated += 1;
  return record;
}
