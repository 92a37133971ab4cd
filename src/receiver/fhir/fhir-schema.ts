import { SEARCH_PARAMETERS } from './fhir-params.js';

/** A parameter that may be repeated (AND): one value or several. */
const repeatable = (description: string) => ({ anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }], description });
/** Given at most once: a second one is refused (400) by the schema. */
const once = (description: string) => ({ type: 'string', description });

const docOf = (name: string): string => SEARCH_PARAMETERS.find((p) => p.name === name)!.documentation;

/**
 * The search's query string, for validation of the result parameters' shape and for /openapi.json.
 * Unknown parameters pass (FHIR lenient handling: the route decides, by the Prefer header).
 */
export const fhirQuerySchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    identifier: repeatable(docOf('identifier')),
    'identifier:of-type': repeatable('http://terminology.hl7.org/CodeSystem/v2-0203|ACSN|<accession number>'),
    'patient:identifier': repeatable(docOf('patient')),
    'patient.identifier': repeatable('as patient:identifier'),
    'subject:identifier': repeatable(docOf('subject')),
    'subject.identifier': repeatable('as patient:identifier'),
    started: repeatable(docOf('started')),
    modality: repeatable(docOf('modality')),
    center: repeatable(docOf('center')),
    _count: once('page size (digits); 0: the total only'),
    _total: once('none | estimate | accurate'),
    _summary: once('count: the total only'),
    _sort: once('-started (the only order)'),
    _cursor: once('opaque: from the next link'),
    _format: once('json | application/json | application/fhir+json'),
  },
} as const;
