import { startScriptedScp, type ScriptedScp } from './scripted-scp.js';

/** One study of the simulated archive, as its C-FIND answer carries it. */
export interface ArchiveStudy {
  uid: string;
  date: string;
  time: string;
  modality: string;
  patientId: string;
}

export interface ArchiveScp extends ScriptedScp {
  studies: ArchiveStudy[];
  /** The matching keys of every query, in order. */
  queries: Record<string, unknown>[];
}

function inRange(value: string, range: string): boolean {
  if (range === '') return true;
  if (!range.includes('-')) return value === range;
  const [from, to] = range.split('-');
  return (from === '' || value >= from!) && (to === '' || value <= to!);
}

// Trimmed: a request pads a value of odd length with a space, as DICOM does.
const text = (v: unknown): string => (Array.isArray(v) ? v.join('\\') : v === undefined || v === null ? '' : String(v)).trim();

/**
 * A DICOM archive that answers C-FIND from a list, like a PACS that cuts every answer at `cap`
 * with a Success status (as Horos does at 10,000, others at 500): study level, matching on
 * StudyDate and StudyTime (single values and ranges), ModalitiesInStudy and StudyInstanceUID lists.
 */
export async function startArchiveScp(studies: ArchiveStudy[], cap: number): Promise<ArchiveScp> {
  const queries: Record<string, unknown>[] = [];
  const scp = await startScriptedScp({
    respond(keys) {
      queries.push(keys);
      const uids = text(keys.StudyInstanceUID).split('\\').filter(Boolean);
      const matched = studies.filter((s) => (uids.length === 0 || uids.includes(s.uid))
        && inRange(s.date, text(keys.StudyDate)) && inRange(s.time, text(keys.StudyTime))
        && (text(keys.ModalitiesInStudy) === '' || text(keys.ModalitiesInStudy).split('\\').includes(s.modality)));
      return matched.slice(0, cap).map((s) => ({
        StudyInstanceUID: s.uid, StudyDate: s.date, StudyTime: s.time, ModalitiesInStudy: s.modality, PatientID: s.patientId,
        NumberOfStudyRelatedSeries: 1, NumberOfStudyRelatedInstances: 1,
      }));
    },
  });
  return Object.assign(scp, { studies, queries });
}
