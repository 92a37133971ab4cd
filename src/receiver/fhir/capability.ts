import { SEARCH_PARAMETERS } from './fhir-params.js';
import type { FhirResource } from './imaging-study.js';

const RESULT_DOCS =
  'Result parameters: _count (page size; default and cap set by RECEIVER_FHIR_DEFAULT_COUNT / RECEIVER_FHIR_MAX_COUNT; 0: the total only), ' +
  '_total (none, estimate, accurate: counted unless none; omitted when counting would outlast the time budget), _summary=count, ' +
  '_sort=-started (the only order: newest first, undated last), _format=json. Paging: follow the Bundle\'s next link (an opaque _cursor). ' +
  'Unknown parameters, and modifiers or chains not listed, are ignored unless the request says Prefer: handling=strict (then 400); ' +
  'the self link lists the parameters applied. Deleted studies are never returned (read answers 410 Gone).';

/**
 * The conformance statement (GET /fhir/metadata): read-only ImagingStudy, JSON only, every search
 * parameter with its type. Served without credentials: it describes the server, holds no data.
 */
export function capabilityStatement(base: string, version: string, publishedAt: string): FhirResource {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: publishedAt,
    publisher: 'pacs-indexer',
    kind: 'instance',
    software: { name: 'pacs-indexer receiver', version },
    implementation: { description: 'National index of imaging studies (read-only)', url: `${base}/fhir` },
    fhirVersion: '4.0.1',
    format: ['json'],
    rest: [{
      mode: 'server',
      documentation: 'A read-only index of the imaging studies held at every centre. Patients are identified, not served: ImagingStudy.subject is a logical reference by identifier.',
      security: {
        service: [{
          coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'Basic' }],
          text: 'Bearer read token (Authorization: Bearer), or HTTP Basic with the token as the password',
        }],
        description: 'Every request except GET /fhir/metadata needs a read token: Authorization: Bearer <token>, or HTTP Basic with the token as the password (any user name). Centre keys cannot read (403).',
      },
      resource: [{
        type: 'ImagingStudy',
        documentation: RESULT_DOCS,
        interaction: [
          { code: 'read', documentation: 'GET /fhir/ImagingStudy/{id}: 404 unknown, 410 deleted.' },
          { code: 'search-type', documentation: 'GET /fhir/ImagingStudy?…: a searchset Bundle, newest first.' },
        ],
        versioning: 'no-version',
        readHistory: false,
        updateCreate: false,
        searchParam: SEARCH_PARAMETERS.map((p) => ({ name: p.name, ...(p.definition ? { definition: p.definition } : {}), type: p.type, documentation: p.documentation })),
      }],
    }],
  };
}
