import { parseRut, patientKey } from '../../shared/patient-key.js';
import { badRequest } from '../http/api-error.js';
import type { StudyMatch } from '../store/study-match.js';
import { attributeOf, keyName, type QidoAttribute } from './qido-keys.js';
import { parseDateQuery, parseTimeQuery } from './qido-dates.js';
import { hasWildcard, pnConditions, textMatch, wildcardLike } from './qido-text.js';
import { includeOf, type IncludeSet } from './qido-include.js';

/**
 * A QIDO-RS study search's query string (PS3.18 §8.3.4, §10.6) → the StudyMatch the store runs,
 * the attributes to return, the page and the warnings to send. Pure: the centre directory is
 * applied afterwards (centersOf), only when the query names a centre.
 */

export const WARNING_SERVICE = 'pacs-indexer';
const warning = (text: string): string => `299 ${WARNING_SERVICE}: "${text}"`;
export const WARNING_FUZZY = warning('The fuzzymatching parameter is not supported. Only literal matching has been performed.');
export const WARNING_LIMIT = warning('The number of results exceeded the maximum supported by the server. Additional results can be requested.');
/** Known attributes the index returns but cannot match on (PatientBirthDate, PatientSex, …): named, never their values. */
export const warningIgnored = (keywords: string[]): string =>
  warning(`The following attributes are not supported as matching keys and were ignored: ${keywords.join(', ')}.`);

export interface QidoBounds {
  /** Studies per answer at most (deps.reads.dicomwebMaxResults). */
  maxResults: number;
  /** Highest offset accepted (deps.reads.maxOffset). */
  maxOffset: number;
}

/** The centres a query names: InstitutionName (a pattern on name or code) and/or exact codes. */
export interface CenterFilter {
  institution?: string;
  codes?: string[];
}

export interface QidoQuery {
  /** Every condition but the centres (see centersOf). */
  match: StudyMatch;
  centers: CenterFilter | null;
  include: IncludeSet;
  limit: number;
  offset: number;
  /** The client's limit was absent or above the cap: a truncated answer carries WARNING_LIMIT. */
  capped: boolean;
  warnings: string[];
}

export type QueryValues = Record<string, string | string[] | undefined>;
type Mutable<T> = { -readonly [K in keyof T]?: T[K] };

/** Longer values cannot match any stored column: refused rather than sent to the database. */
const MAX_VALUE = 1024;
const MAX_UIDS = 1000;
const UID = /^[0-9]+(\.[0-9]+)*$/;
const MODALITY = /^[A-Z0-9_ ]{1,16}$/;

const listOf = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const universal = (v: string): boolean => v === '' || /^\*+$/.test(v);

function single(key: string, values: string[]): string {
  if (values.length > 1) throw badRequest(`${key} may be given only once`);
  return values[0]!.trim();
}

/**
 * Items of a list-valued key, separated and/or repeated; blank items dropped. Null (universal) when
 * nothing is left or a value is a lone `*` (any of a list holding "anything" is anything).
 */
function items(values: string[], separators: RegExp): string[] | null {
  if (values.some((v) => /^\*+$/.test(v.trim()))) return null;
  const out = values.flatMap((v) => v.split(separators)).map((v) => v.trim()).filter((v) => v !== '');
  return out.length === 0 ? null : out;
}

function uidList(a: QidoAttribute, values: string[]): string[] | null {
  const uids = items(values, /[\\,]/);
  if (uids === null) return null;
  if (uids.length > MAX_UIDS) throw badRequest(`${a.keyword} lists at most ${MAX_UIDS} UIDs`);
  if (!uids.every((u) => u.length <= 64 && UID.test(u))) throw badRequest(`${a.keyword} must be UIDs (digits and dots, at most 64 characters), separated by \\ or ,`);
  return [...new Set(uids)];
}

function modalityList(a: QidoAttribute, values: string[]): string[] | null {
  const mods = items(values, /[\\,]/);
  if (mods === null) return null;
  if (mods.some(hasWildcard)) throw badRequest(`wildcards are not supported for ${a.keyword} (only a lone * for any)`);
  const upper = mods.map((m) => m.toUpperCase());
  if (!upper.every((m) => MODALITY.test(m))) throw badRequest(`${a.keyword} must be modality codes (A-Z, 0-9, at most 16 characters), separated by \\`);
  return [...new Set(upper)];
}

function patientIdConditions(m: Mutable<StudyMatch>, v: string): void {
  if (hasWildcard(v)) {
    m.patientId = { like: wildcardLike(v) };
    return;
  }
  // Every spelling of a valid RUT is one patient key (documented extension); any other id is also literal.
  m.patientKey = patientKey(v) ?? '';
  if (parseRut(v) === null) m.patientId = { equals: v };
}

const TEXT_FIELDS: Record<string, 'accessionNo' | 'studyId' | 'description'> = {
  AccessionNumber: 'accessionNo', StudyID: 'studyId', StudyDescription: 'description',
};

/** One single-valued key's condition into the match (or the centre filter). */
function applySingle(m: Mutable<StudyMatch>, centers: CenterFilter, a: QidoAttribute, v: string): void {
  switch (a.match) {
    case 'date': { const b = parseDateQuery(a.keyword, v); m.from = b.from; m.to = b.to; return; }
    case 'time': Object.assign(m, parseTimeQuery(a.keyword, v)); return;
    case 'text': m[TEXT_FIELDS[a.keyword]!] = textMatch(v); return;
    case 'patient-id': patientIdConditions(m, v); return;
    case 'patient-name': { const c = pnConditions(v, true); m.familyName = c.familyName; m.patientName = c.name; return; }
    case 'physician-name': m.referringPhysician = pnConditions(v, false).name; return;
    case 'institution': centers.institution = v; return;
    default: return;
  }
}

function applyList(m: Mutable<StudyMatch>, centers: CenterFilter, a: QidoAttribute, values: string[]): void {
  if (a.match === 'uid-list') { const u = uidList(a, values); if (u) m.studyIuids = u; }
  if (a.match === 'modalities') { const mods = modalityList(a, values); if (mods) m.modalities = mods; }
  if (a.match === 'center-code') { const codes = items(values, /\\/); if (codes) centers.codes = [...new Set(codes)]; }
}

function applyKey(m: Mutable<StudyMatch>, centers: CenterFilter, a: QidoAttribute, values: string[]): void {
  const key = keyName(a);
  if (a.list) {
    if (a.match !== 'uid-list' && values.some((v) => v.length > MAX_VALUE)) throw badRequest(`${key} is too long (at most ${MAX_VALUE} characters)`);
    applyList(m, centers, a, values);
    return;
  }
  const v = single(key, values);
  if (v.length > MAX_VALUE) throw badRequest(`${key} is too long (at most ${MAX_VALUE} characters)`);
  if (universal(v)) return;
  applySingle(m, centers, a, v);
}

/** ASCII digits only: `1e3`, `-1`, `0x10`, ` 5` are refused, not read as numbers. */
function count(name: string, values: string[], min: number): number | undefined {
  if (values.length === 0) return undefined;
  if (values.length > 1) throw badRequest(`${name} may be given only once`);
  const v = values[0]!;
  if (!/^[0-9]+$/.test(v) || Number(v) < min) throw badRequest(`${name} must be a whole number of at least ${min} (ASCII digits only)`);
  return Number(v);
}

function page(params: Map<string, string[]>, bounds: QidoBounds): Pick<QidoQuery, 'limit' | 'offset' | 'capped'> {
  const limit = count('limit', params.get('limit') ?? [], 1);
  const offset = count('offset', params.get('offset') ?? [], 0) ?? 0;
  if (offset > bounds.maxOffset) {
    throw badRequest(`offset must be at most ${bounds.maxOffset}; narrow the query (e.g. a StudyDate range) to reach the studies past it`);
  }
  return { limit: Math.min(limit ?? bounds.maxResults, bounds.maxResults), offset, capped: limit === undefined || limit > bounds.maxResults };
}

const CONTROL = new Set(['limit', 'offset', 'includefield', 'fuzzymatching']);

/** Groups the query by attribute (a keyword and its tag are one key) and control parameter; unknown names dropped. */
function grouped(query: QueryValues): { keys: Map<QidoAttribute, string[]>; params: Map<string, string[]>; ignored: string[] } {
  const keys = new Map<QidoAttribute, string[]>();
  const params = new Map<string, string[]>();
  const ignored = new Set<string>();
  for (const [name, raw] of Object.entries(query)) {
    const values = listOf(raw);
    const control = name.toLowerCase();
    if (CONTROL.has(control)) params.set(control, [...(params.get(control) ?? []), ...values]);
    const a = CONTROL.has(control) ? null : attributeOf(name);
    if (a && a.match !== null) keys.set(a, [...(keys.get(a) ?? []), ...values]);
    const filters = values.some((v) => !universal(v.trim()));
    if (filters && namesPatient(a, name)) throw refusedPatientKey(a);
    if (a && a.match === null && filters) ignored.add(keyName(a));
  }
  return { keys, params, ignored: [...ignored] };
}

/**
 * A patient attribute (group 0010) the index cannot match on, or an unknown name that looks like one
 * (`(0010,0020)`, `PatientsID`): ignoring it, as the standard lets a server do, would answer every
 * patient's studies to a query meant for one. Refused instead.
 */
function namesPatient(a: QidoAttribute | null, name: string): boolean {
  if (a) return a.match === null && a.tag.startsWith('0010');
  return /patient/i.test(name) || /^\(?0010[,]?[0-9a-f]{4}\)?$/i.test(name.trim());
}

function refusedPatientKey(a: QidoAttribute | null): Error {
  const named = a ? `${a.keyword} (${a.tag})` : 'a patient attribute this index does not know (its name is not shown)';
  return badRequest(`${named} is not a matching key here: only PatientID and PatientName select a patient (ignoring it would match every patient)`);
}

export function parseQido(query: QueryValues, bounds: QidoBounds): QidoQuery {
  const { keys, params, ignored } = grouped(query);
  const m: Mutable<StudyMatch> = {};
  const centers: CenterFilter = {};
  for (const [a, values] of keys) applyKey(m, centers, a, values);
  const fuzzy = params.get('fuzzymatching') ?? [];
  const warnings = single('fuzzymatching', fuzzy.length === 0 ? [''] : fuzzy).toLowerCase() === 'true' ? [WARNING_FUZZY] : [];
  if (ignored.length > 0) warnings.push(warningIgnored(ignored));
  const matchedOn = [...keys.keys()].filter((a) => a.returned === 'included' && keys.get(a)!.some((v) => !universal(v.trim())));
  const defined = Object.fromEntries(Object.entries(m).filter(([, v]) => v !== undefined));
  return {
    match: { ...defined, includeDeleted: false } as StudyMatch,
    centers: centers.institution === undefined && centers.codes === undefined ? null : centers,
    include: includeOf(params.get('includefield') ?? [], matchedOn),
    ...page(params, bounds),
    warnings,
  };
}
