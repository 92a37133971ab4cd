import type { Keyset, StudyMatch } from '../store/study-match.js';
import { SearchConstraints } from './search-constraints.js';
import { invalid, notSupported } from './operation-outcome.js';

/**
 * GET /fhir/ImagingStudy's query string → a StudyMatch, its page, and the parameters applied (for
 * the Bundle's self link). Unknown parameters, and known ones with a modifier or chain not
 * supported, are ignored unless the client asked `Prefer: handling=strict` (R4 search.html, Handling
 * errors); wrong values of supported ones are always refused.
 */

export type Query = Record<string, string | string[] | undefined>;

export interface SearchOptions {
  strict: boolean;
  defaultCount: number;
  maxCount: number;
  decodeCursor: (cursor: string) => Keyset;
}

export interface FhirSearch {
  match: StudyMatch;
  /** No study can match: the answer is empty without asking the store. */
  impossible: boolean;
  count: number;
  /** Count the matches for Bundle.total (`_total=none` does not). */
  total: boolean;
  /** `_summary=count`: the total only. */
  summaryCount: boolean;
  after: Keyset | null;
  /** The parameters applied, as given, in order (`_count` as capped); `_cursor` is added by the links. */
  used: [string, string][];
}

type Handler = (c: SearchConstraints, name: string, value: string) => void;

const patientForms = ['patient:identifier', 'patient.identifier', 'patient:Patient.identifier', 'subject:identifier', 'subject.identifier', 'subject:Patient.identifier'];

/** The filters, by the name (with modifier or chain) they are given under. */
const FILTERS: Record<string, Handler> = {
  identifier: (c, n, v) => c.identifier(n, v, false),
  'identifier:of-type': (c, n, v) => c.identifier(n, v, true),
  ...Object.fromEntries(patientForms.map((f): [string, Handler] => [f, (c, n, v) => c.patientIdentifier(n, v)])),
  started: (c, n, v) => c.started(n, v),
  modality: (c, n, v) => c.modality(n, v),
  center: (c, n, v) => c.center(n, v),
};

/** Plain references: this server has no Patient (or Group, Device) resources to point at. */
const REFERENCES = new Set(['patient', 'subject', 'patient:Patient', 'subject:Patient']);

const RESULT_PARAMETERS = new Set(['_count', '_total', '_summary', '_sort', '_cursor', '_format']);

/** A parameter name is quoted back only when it looks like one, never like a patient id or name. */
const ECHOABLE = /^_?[a-z][A-Za-z0-9-]{0,40}(?:[:.][A-Za-z][A-Za-z0-9-]{0,40}){0,3}$/;
export const shownName = (name: string): string => (ECHOABLE.test(name) ? `search parameter "${name}"` : 'a search parameter (its name is not shown)');

const SUPPORTED = [...Object.keys(FILTERS), ...RESULT_PARAMETERS].join(', ');
const BASES = new Set(['identifier', 'patient', 'subject', 'started', 'modality', 'center', ...RESULT_PARAMETERS]);

function unsupported(name: string): Error {
  const base = name.split(/[:.]/)[0]!;
  return BASES.has(base) && base !== name
    ? notSupported(`${shownName(name)}: this modifier or chain is not supported (supported: ${SUPPORTED})`)
    : notSupported(`${shownName(name)} is not supported (supported: ${SUPPORTED})`);
}

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/**
 * Refused even under lenient handling: a supported parameter with an unsupported modifier or chain
 * (R4 search.html: a server SHALL reject an unsupported modifier), and anything that names a patient
 * or an identifier (`patient:Identifier`, `pateint.identifier`, `Subject:identifier`): ignoring it
 * would widen a search for one patient to every patient's studies.
 */
function refusedEvenLenient(name: string): boolean {
  const base = name.split(/[:.]/)[0]!;
  return (BASES.has(base) && base !== name) || /patient|pateint|subject|identifier|identifer/i.test(name);
}

interface Results {
  count: number;
  total: boolean;
  summaryCount: boolean;
  after: Keyset | null;
}

/** `_count`, `_total`, `_summary`, `_sort`, `_cursor`, `_format`; false: ignored (lenient). */
function resultParameter(name: string, value: string, r: Results, o: SearchOptions): boolean {
  switch (name) {
    case '_count':
      if (!/^[0-9]+$/.test(value)) throw invalid('search parameter "_count" must be a whole number (ASCII digits)');
      r.count = Math.min(Number(value), o.maxCount);
      return true;
    case '_total':
      if (!['none', 'estimate', 'accurate'].includes(value)) throw invalid('search parameter "_total" must be none, estimate or accurate');
      r.total = value !== 'none';
      return true;
    case '_summary':
      if (!['true', 'text', 'data', 'count', 'false'].includes(value)) throw invalid('search parameter "_summary" must be true, text, data, count or false');
      if (value === 'count') r.summaryCount = true;
      return value === 'count' || value === 'false' || lenientOrThrow(o, '_summary', 'only _summary=count (and false) is supported');
    case '_sort':
      // Newest first is the only order the index pages in.
      return value === '-started' || lenientOrThrow(o, '_sort', 'only _sort=-started (newest first, the default order) is supported');
    case '_cursor':
      r.after = o.decodeCursor(value);
      return false;
    default:
      return true; // _format: checked by the content negotiation
  }
}

function lenientOrThrow(o: SearchOptions, name: string, why: string): false {
  if (o.strict) throw notSupported(`search parameter "${name}": ${why}`);
  return false;
}

export function parseSearch(query: Query, o: SearchOptions): FhirSearch {
  const c = new SearchConstraints();
  const r: Results = { count: o.defaultCount, total: true, summaryCount: false, after: null };
  const used: [string, string][] = [];
  for (const [name, raw] of Object.entries(query)) {
    const values = list(raw);
    if (REFERENCES.has(name)) {
      throw notSupported(`search parameter "${name}" by reference is not supported: there are no Patient resources here; search by the patient's identifier (${name.split(':')[0]}:identifier=system|value)`);
    }
    const filter = FILTERS[name];
    if (filter) {
      for (const v of values) filter(c, name, v);
      used.push(...values.map((v): [string, string] => [name, v]));
    } else if (RESULT_PARAMETERS.has(name)) {
      if (values.length !== 1) throw invalid(`search parameter "${name}" must be given once`);
      if (resultParameter(name, values[0]!, r, o)) used.push([name, name === '_count' ? String(r.count) : values[0]!]);
    } else if (o.strict || refusedEvenLenient(name)) {
      throw unsupported(name);
    }
  }
  const { match, impossible } = c.result();
  return { match, impossible, ...r, used };
}

/** `Prefer: handling=strict` (several preferences may share the header, comma- or semicolon-separated). */
export function isStrict(prefer: string | string[] | undefined): boolean {
  // `handling="strict"`: a quoted preference value is the same value (RFC 7240).
  return list(prefer).join(',').split(/[,;]/).map((p) => p.trim().toLowerCase().replace(/[\s"]+/g, '')).includes('handling=strict');
}

export interface SearchParameterDoc {
  name: string;
  type: 'token' | 'reference' | 'date';
  definition?: string;
  documentation: string;
}

/** The search parameters, as the CapabilityStatement and docs/fhir.md describe them. */
export const SEARCH_PARAMETERS: SearchParameterDoc[] = [
  {
    name: 'identifier', type: 'token', definition: 'http://hl7.org/fhir/SearchParameter/ImagingStudy-identifier',
    documentation: 'urn:dicom:uid|urn:oid:<StudyInstanceUID> (urn:oid: optional); an accession number as identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|ACSN|<value> (any centre) or urn:pacs-indexer:center:<code>:accession|<value>; a value alone: a StudyInstanceUID when it looks like one (digits and dots, or urn:oid:), else an accession number. Comma: OR of UIDs, or of one accession number at several centres.',
  },
  {
    name: 'patient', type: 'reference', definition: 'http://hl7.org/fhir/SearchParameter/clinical-patient',
    documentation: 'Only by identifier: patient:identifier= (or patient.identifier=) system|value, |value or value. http://regcivil.cl/Validacion/RUN|<RUT> takes any spelling of a valid RUT (12.345.678-5, 12345678-5, 123456785); urn:pacs-indexer:center:<code>:patient-id|<id> that id at that centre, as stored (case-sensitive); a value alone any spelling at any centre. A plain reference (patient=Patient/1) is refused: there are no Patient resources here.',
  },
  {
    name: 'subject', type: 'reference', definition: 'http://hl7.org/fhir/SearchParameter/ImagingStudy-subject',
    documentation: 'As patient: subject:identifier=, subject.identifier= or subject:Patient.identifier=.',
  },
  {
    name: 'started', type: 'date', definition: 'http://hl7.org/fhir/SearchParameter/ImagingStudy-started',
    documentation: 'Prefixes eq (default), ge, le, gt, lt; YYYY, YYYY-MM, YYYY-MM-DD, or a dateTime (compared by its date: study times are local, zone unknown). Repeat for AND (started=ge2021-01-01&started=lt2022). Undated studies match no date.',
  },
  {
    name: 'modality', type: 'token', definition: 'http://hl7.org/fhir/SearchParameter/ImagingStudy-modality',
    documentation: 'DICOM modality codes (http://dicom.nema.org/resources/ontology/DCM|CT or CT), matched against the modalities in the study; comma: OR.',
  },
  {
    name: 'center', type: 'token', definition: 'urn:pacs-indexer:SearchParameter/ImagingStudy-center',
    documentation: 'This index\'s own: the centre holding the study (ImagingStudy.location.identifier, urn:pacs-indexer:center|<code> or <code>); comma: OR.',
  },
];
