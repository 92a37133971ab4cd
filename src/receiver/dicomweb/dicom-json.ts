import { splitModalities } from '../../shared/study-record.js';
import type { MatchedStudy } from '../store/study-match.js';
import { included, type IncludeSet } from './qido-include.js';
import { ATTRIBUTES, PRIVATE_CREATOR, type Vr } from './qido-keys.js';

/**
 * A matched study as a DICOM JSON object (PS3.18 Annex F.2): keys are 8 upper-case hex tags in
 * ascending order, each `{vr, Value}`; an attribute without a value is `{vr}` alone.
 */

export interface PersonName {
  Alphabetic?: string;
  Ideographic?: string;
  Phonetic?: string;
}

export interface DicomAttribute {
  vr: Vr;
  Value?: (string | number | PersonName)[];
}

export type DicomJson = Record<string, DicomAttribute>;

type Values = (string | number | PersonName)[] | null;

const text = (v: string | null | undefined): Values => {
  const t = v?.trim();
  return t ? [t] : null;
};

/** YYYY-MM-DD… → YYYYMMDD (DA). */
const da = (v: string | null): Values => (v && /^\d{4}-\d{2}-\d{2}/.test(v) ? [v.slice(0, 10).replace(/-/g, '')] : null);

/** …THH:MM:SS → HHMMSS (TM). */
const tm = (v: string | null): Values => (v && /T\d{2}:\d{2}:\d{2}/.test(v) ? [v.slice(11, 19).replace(/:/g, '')] : null);

const GROUPS = ['Alphabetic', 'Ideographic', 'Phonetic'] as const;

/** A PN's `=`-separated groups; trailing empty components (`^^`) dropped. */
export function personName(v: string | null): Values {
  if (!v) return null;
  const name: PersonName = {};
  v.split('=').slice(0, 3).forEach((group, i) => {
    const g = group.replace(/[\s^]+$/, '').trim();
    if (g) name[GROUPS[i]!] = g;
  });
  return Object.keys(name).length > 0 ? [name] : null;
}

const count = (n: number | null | undefined): Values => (typeof n === 'number' && Number.isFinite(n) ? [n] : null);

/** `${base}/studies/${uid}` of a centre's registered DICOMweb base (no trailing slash). */
function retrieveUrl(s: MatchedStudy): Values {
  const base = s.center.dicomwebUrl?.trim().replace(/\/+$/, '');
  return base ? [`${base}/studies/${encodeURIComponent(s.record.study_iuid)}`] : null;
}

const RENDER: Record<string, (s: MatchedStudy) => Values> = {
  SpecificCharacterSet: () => ['ISO_IR 192'],
  StudyDate: (s) => da(s.record.study_datetime),
  StudyTime: (s) => tm(s.record.study_datetime),
  AccessionNumber: (s) => text(s.record.accession_no),
  RetrieveAETitle: (s) => text(s.center.retrieveAet),
  ModalitiesInStudy: (s) => {
    const mods = s.record.modalities.length > 0 ? s.record.modalities : splitModalities(s.record.study_modality);
    return mods.length > 0 ? [...mods] : null;
  },
  InstitutionName: (s) => text(s.center.name) ?? [s.center.code],
  ReferringPhysicianName: (s) => personName(s.record.referring_physician),
  StudyDescription: (s) => text(s.record.study_description),
  RetrieveURL: retrieveUrl,
  PrivateCreator: () => [PRIVATE_CREATOR],
  CenterCode: (s) => [s.center.code],
  PatientName: (s) => personName(s.record.patient_name),
  PatientID: (s) => text(s.record.patient_id),
  IssuerOfPatientID: (s) => text(s.record.patient_id_issuer),
  PatientBirthDate: (s) => da(s.record.patient_birthdate),
  PatientSex: (s) => text(s.record.patient_sex)?.map((x) => String(x).toUpperCase()) ?? null,
  StudyInstanceUID: (s) => [s.record.study_iuid],
  StudyID: (s) => text(s.record.study_id),
  NumberOfStudyRelatedSeries: (s) => count(s.record.study_series),
  NumberOfStudyRelatedInstances: (s) => count(s.record.study_instances),
};

/**
 * The study's DICOM JSON: every always-returned attribute (empty ones without Value), RetrieveURL
 * and RetrieveAETitle only when the centre registered them, the optional ones when included.
 */
export function studyToDicomJson(s: MatchedStudy, include: IncludeSet): DicomJson {
  const out: DicomJson = {};
  for (const a of ATTRIBUTES) {
    if (a.returned === 'included' && !included(include, a)) continue;
    const values = RENDER[a.keyword]!(s);
    if (a.returned === 'registered' && values === null) continue;
    out[a.tag] = values === null ? { vr: a.vr } : { vr: a.vr, Value: values };
  }
  return out;
}
