import { blankStudyRecord, type StudyRecord } from '../../shared/study-record.js';

/** A study that no longer exists at the centre; only its identity is known. */
export function tombstoneRecord(center: string, studyIuid: string, studyPk: number | null, sourceSeq: number): StudyRecord {
  return { ...blankStudyRecord(center, studyIuid), study_pk: studyPk, source_seq: sourceSeq, deleted: true };
}
