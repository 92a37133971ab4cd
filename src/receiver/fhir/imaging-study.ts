import { parseRut } from '../../shared/patient-key.js';
import type { MatchedStudy } from '../store/study-match.js';
import {
  ACCESSION_TYPE, CENTER_SYSTEM, centerAccessionSystem, centerPatientSystem, DCM_SYSTEM, DICOM_UID_SYSTEM, ENDPOINT_TYPE_SYSTEM,
  IDENTIFIER_TYPE_SYSTEM, RUN_SYSTEM,
} from './fhir-systems.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- FHIR JSON is built field by field */
export type FhirResource = Record<string, any>;

/**
 * FHIR strings need at least one non-blank character and allow no whitespace but space, tab, CR
 * and LF (the R4 JSON schema's pattern): other blanks (NBSP, form feed…) become spaces.
 */
export function fhirString(value: string | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.replace(/[^\S \t\r\n]/g, ' ').trim();
  return text === '' ? undefined : text;
}

/** A DICOM PN as display text: the alphabetic group, components joined by spaces. */
export function personDisplay(pn: string | null | undefined): string | undefined {
  if (pn === null || pn === undefined) return undefined;
  return fhirString((pn.split('=')[0] ?? '').replace(/\^/g, ' ').replace(/\s+/g, ' '));
}

/**
 * The patient as a logical reference: a valid RUT under the national RUN system in its canonical
 * form (every spelling is one patient), any other id under its centre's own system as stored.
 */
export function subjectOf(patientId: string | null, center: string): FhirResource {
  const id = fhirString(patientId);
  if (id === undefined) return { display: 'unidentified patient' };
  const rut = parseRut(id);
  return rut ? { identifier: { system: RUN_SYSTEM, value: rut } } : { identifier: { system: centerPatientSystem(center), value: id } };
}

const DATE = /^\d{4}-\d{2}-\d{2}/;

/** DICOM dates and times are the centre's local time, zone unknown; a FHIR time needs a zone: the date alone. */
export function startedOf(studyDatetime: string | null): string | undefined {
  return studyDatetime !== null && DATE.test(studyDatetime) ? studyDatetime.slice(0, 10) : undefined;
}

function identifiersOf(s: MatchedStudy): FhirResource[] {
  const ids: FhirResource[] = [{ system: DICOM_UID_SYSTEM, value: `urn:oid:${s.record.study_iuid}` }];
  const accession = fhirString(s.record.accession_no);
  if (accession !== undefined) {
    ids.push({
      type: { coding: [{ system: IDENTIFIER_TYPE_SYSTEM, code: ACCESSION_TYPE }] },
      system: centerAccessionSystem(s.center.code),
      value: accession,
    });
  }
  return ids;
}

function modalitiesOf(modalities: readonly string[]): FhirResource[] | undefined {
  const codes = [...new Set(modalities.map((m) => m.trim()).filter((m) => m !== ''))];
  return codes.length > 0 ? codes.map((code) => ({ system: DCM_SYSTEM, code })) : undefined;
}

/** A contained Endpoint only where the centre registered its own WADO-RS root: never one that cannot serve the study. */
function endpointOf(url: string | null): FhirResource | undefined {
  if (url === null || url.trim() === '') return undefined;
  return {
    resourceType: 'Endpoint',
    id: 'wado',
    status: 'active',
    connectionType: { system: ENDPOINT_TYPE_SYSTEM, code: 'dicom-wado-rs' },
    payloadType: [{ text: 'DICOM' }],
    address: url.trim(),
  };
}

const withoutUndefined = (o: FhirResource): FhirResource => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

const count = (n: number | null | undefined): number | undefined => (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined);

/** A stored study as an R4 ImagingStudy (docs/fhir.md "Mapping"); no patient name: the subject is identified. */
export function toImagingStudy(s: MatchedStudy): FhirResource {
  const endpoint = endpointOf(s.center.dicomwebUrl);
  const referrer = personDisplay(s.record.referring_physician);
  return withoutUndefined({
    resourceType: 'ImagingStudy',
    id: String(s.id),
    contained: endpoint ? [endpoint] : undefined,
    identifier: identifiersOf(s),
    status: 'available',
    modality: modalitiesOf(s.record.modalities),
    subject: subjectOf(s.record.patient_id, s.center.code),
    started: startedOf(s.record.study_datetime),
    endpoint: endpoint ? [{ reference: '#wado' }] : undefined,
    numberOfSeries: count(s.record.study_series),
    numberOfInstances: count(s.record.study_instances),
    referrer: referrer === undefined ? undefined : { display: referrer },
    location: { identifier: { system: CENTER_SYSTEM, value: s.center.code }, display: fhirString(s.center.name) ?? s.center.code },
    description: fhirString(s.record.study_description),
  });
}
