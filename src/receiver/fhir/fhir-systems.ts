/**
 * The identifier and code systems the FHIR interface publishes and searches (docs/fhir.md): the
 * standard ones (DICOM UIDs, DCM modality codes, the v2 ACSN identifier type, the Chilean RUN) and
 * this index's own per-centre systems for identifiers that only mean something at one centre.
 */
export const DICOM_UID_SYSTEM = 'urn:dicom:uid';
export const DCM_SYSTEM = 'http://dicom.nema.org/resources/ontology/DCM';
export const IDENTIFIER_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v2-0203';
export const ACCESSION_TYPE = 'ACSN';
/** The Registro Civil's RUN/RUT: a valid RUT is national, so it is published under this system. */
export const RUN_SYSTEM = 'http://regcivil.cl/Validacion/RUN';
export const CENTER_SYSTEM = 'urn:pacs-indexer:center';
export const ENDPOINT_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type';

export const centerAccessionSystem = (code: string): string => `${CENTER_SYSTEM}:${code}:accession`;
export const centerPatientSystem = (code: string): string => `${CENTER_SYSTEM}:${code}:patient-id`;

/** Centre codes as `indexer-receiver centers add` accepts them. */
const CENTER_CODE = '[A-Za-z0-9_.-]{1,64}';
const CENTER_SCOPED = new RegExp(`^${CENTER_SYSTEM}:(${CENTER_CODE}):(accession|patient-id)$`);

/** The centre and kind of one of the per-centre systems, or null for any other system. */
export function centerScopedSystem(system: string): { center: string; kind: 'accession' | 'patient-id' } | null {
  const m = CENTER_SCOPED.exec(system);
  return m ? { center: m[1]!, kind: m[2] as 'accession' | 'patient-id' } : null;
}

export const isCenterCode = (code: string): boolean => new RegExp(`^${CENTER_CODE}$`).test(code);
