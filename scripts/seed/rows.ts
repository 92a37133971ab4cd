import type { SeedPatient } from './people.js';
import type { SeedSeries, SeedStudy } from './studies.js';

/**
 * Column lists and row arrays for the dcm4chee 2.x tables. Every NOT NULL column is filled; the
 * rest are what dcm4chee itself leaves empty on a default install (soundex, custom attributes, blobs).
 */

export type Row = Array<string | number | null>;

export const PATIENT_COLUMNS = ['pk', 'pat_id', 'pat_id_issuer', 'pat_name', 'pat_birthdate', 'pat_sex', 'created_time', 'updated_time'];

export const STUDY_COLUMNS = [
  'pk', 'patient_fk', 'study_iuid', 'study_id', 'study_datetime', 'accession_no', 'ref_physician', 'study_desc',
  'mods_in_study', 'cuids_in_study', 'num_series', 'num_instances', 'retrieve_aets', 'availability', 'study_status',
  'checked_time', 'created_time', 'updated_time',
];

export const SERIES_COLUMNS = [
  'pk', 'study_fk', 'series_iuid', 'series_no', 'modality', 'body_part', 'series_desc', 'institution', 'station_name',
  'pps_start', 'num_instances', 'src_aet', 'retrieve_aets', 'availability', 'series_status', 'created_time', 'updated_time',
];

export const INSTANCE_COLUMNS = [
  'pk', 'series_fk', 'sop_iuid', 'sop_cuid', 'inst_no', 'content_datetime', 'retrieve_aets', 'availability',
  'inst_status', 'all_attrs', 'commitment', 'archived', 'created_time', 'updated_time',
];

/** Site-level values every row of a centre shares. */
export interface SiteInfo {
  /** The archive's AE title, dcm4chee's default unless the site changed it. */
  aet: string;
  institution: string;
}

export function patientRow(p: SeedPatient, pk: number): Row {
  const created = p.createdTime;
  return [pk, p.patId, p.issuer, p.name, p.birthDate, p.sex, created, created];
}

export function studyRow(s: SeedStudy, pk: number, patientPk: number, site: SiteInfo): Row {
  return [
    pk, patientPk, s.uid, s.studyId, s.datetime, s.accessionNo, s.refPhysician, s.description,
    s.modalities, s.cuids, s.numSeries, s.numInstances, site.aet, 0, 0,
    s.createdTime, s.createdTime, s.createdTime,
  ];
}

export function seriesRow(s: SeedSeries, pk: number, study: SeedStudy, studyPk: number, site: SiteInfo): Row {
  return [
    pk, studyPk, s.uid, String(s.number), s.modality, s.bodyPart, s.description, site.institution, s.station,
    study.datetime, s.instances, s.station, site.aet, 0, 0, study.createdTime, study.createdTime,
  ];
}

/** Instance rows of one series, pks from firstPk; all_attrs/commitment/archived are BIT(1) flags. */
export function instanceRows(s: SeedSeries, firstPk: number, seriesPk: number, study: SeedStudy, site: SiteInfo): Row[] {
  const rows: Row[] = [];
  for (let i = 1; i <= s.instances; i++) {
    rows.push([
      firstPk + i - 1, seriesPk, `${s.uid}.${i}`, s.sopCuid, String(i), study.datetime, site.aet, 0,
      0, 1, 0, 1, study.createdTime, study.createdTime,
    ]);
  }
  return rows;
}
