import { foldText, parseRut, patientKey } from '../../shared/patient-key.js';
import type { StudyMatch } from '../store/study-match.js';
import {
  ACCESSION_TYPE, CENTER_SYSTEM, centerScopedSystem, DCM_SYSTEM, DICOM_UID_SYSTEM, IDENTIFIER_TYPE_SYSTEM, isCenterCode, RUN_SYSTEM,
} from './fhir-systems.js';
import { alternatives, dateBounds, intersectBounds, PRINTABLE_ASCII, token, typedToken, type DateBounds, type Token } from './fhir-values.js';
import { invalid, notSupported } from './operation-outcome.js';

/**
 * The filters of an ImagingStudy search, accumulated parameter by parameter: repeated parameters
 * are AND-ed, the alternatives of one (`a,b`) OR-ed, as far as a StudyMatch can say it; what it
 * cannot (an OR of two different patients) is refused 400 rather than answered wrongly. A value no
 * stored study can carry (an unknown system, an invalid RUT under the RUN system) matches nothing.
 */
export class SearchConstraints {
  private uids?: string[];
  private accession?: { value: string; centers: string[] | null };
  private patient?: { key: string; literal: string | null; centers: string[] | null };
  private centers?: string[];
  private modalities?: string[];
  private dates: DateBounds = {};
  private impossible = false;

  identifier(name: string, value: string, ofType: boolean): void {
    const alts = choices(name, value).map((a) => (ofType ? typedIdentifier(name, a) : identifierOf(name, token(name, a))));
    const found = alts.filter((a): a is IdChoice => a !== null);
    if (found.length === 0) {
      this.impossible = true;
      return;
    }
    const uids = found.filter((a): a is { uid: string } => 'uid' in a).map((a) => a.uid);
    if (uids.length === found.length) {
      this.uids = this.uids === undefined ? uids : this.uids.filter((u) => uids.includes(u));
      if (this.uids.length === 0) this.impossible = true;
      return;
    }
    if (uids.length > 0) throw notSupported(`search parameter "${name}": an OR of a StudyInstanceUID and an accession number is not supported (give them as separate searches)`);
    const accessions = found as { accession: string; center: string | null }[];
    const value0 = sameValue(name, accessions.map((a) => a.accession), foldText, 'accession numbers');
    const next = { value: value0, centers: unionCenters(accessions.map((a) => a.center)) };
    if (this.accession !== undefined && foldText(this.accession.value) !== foldText(next.value)) this.impossible = true;
    this.accession = { value: this.accession?.value ?? next.value, centers: intersectCenters(this.accession?.centers ?? null, next.centers) };
  }

  patientIdentifier(name: string, value: string): void {
    const found = choices(name, value).map((a) => patientOf(token(name, a))).filter((p): p is PatientChoice => p !== null);
    if (found.length === 0) {
      this.impossible = true;
      return;
    }
    const key = sameValue(name, found.map((p) => p.key), (k) => k, 'patients');
    const literals = [...new Set(found.map((p) => p.literal))];
    if (literals.length > 1) throw notSupported(`search parameter "${name}": an OR of different patient ids is not supported (search for each separately)`);
    const literal = literals[0] ?? null;
    const centers = unionCenters(found.map((p) => p.center));
    if (this.patient !== undefined && (this.patient.key !== key || (this.patient.literal !== null && literal !== null && this.patient.literal !== literal))) this.impossible = true;
    this.patient = { key, literal: this.patient?.literal ?? literal, centers: intersectCenters(this.patient?.centers ?? null, centers) };
  }

  center(name: string, value: string): void {
    const codes = choices(name, value).map((a) => token(name, a))
      .filter((t) => (t.system === null || t.system === '' || t.system === CENTER_SYSTEM) && isCenterCode(t.code))
      .map((t) => t.code);
    this.centers = intersectCenters(this.centers ?? null, [...new Set(codes)]) ?? [];
    if (this.centers.length === 0) this.impossible = true;
  }

  modality(name: string, value: string): void {
    const codes = [...new Set(choices(name, value).map((a) => modalityOf(name, token(name, a))).filter((c): c is string => c !== null))];
    if (this.modalities !== undefined && !sameSet(this.modalities, codes)) {
      throw notSupported(`search parameter "${name}" given twice with different codes: a study's modalities cannot be AND-ed here (use one "${name}" with a comma for OR)`);
    }
    this.modalities ??= codes;
    if (codes.length === 0) this.impossible = true;
  }

  started(name: string, value: string): void {
    if (choices(name, value).length > 1) throw notSupported(`search parameter "${name}": an OR (comma) of dates is not supported (repeat the parameter for AND, e.g. ge… and le…)`);
    this.dates = intersectBounds(this.dates, dateBounds(name, value));
    if (this.dates.impossible) this.impossible = true;
  }

  /**
   * The StudyMatch of every constraint together (tombstones never: no standards interface shows
   * them); `impossible`: no study can match (answered without asking the store).
   */
  result(): { match: StudyMatch; impossible: boolean } {
    let centers = intersectCenters(this.centers ?? null, this.accession?.centers ?? null);
    centers = intersectCenters(centers, this.patient?.centers ?? null);
    const impossible = this.impossible || (centers !== null && centers.length === 0);
    const match: StudyMatch = {
      includeDeleted: false,
      ...(this.uids === undefined ? {} : { studyIuids: this.uids }),
      ...(this.accession === undefined ? {} : { accessionNo: { equals: this.accession.value } }),
      ...(this.patient === undefined ? {} : { patientKey: this.patient.key }),
      ...(this.patient?.literal ? { patientId: { equals: this.patient.literal } } : {}),
      ...(centers === null ? {} : { centers }),
      ...(this.modalities === undefined ? {} : { modalities: this.modalities }),
      ...(this.dates.from === undefined ? {} : { from: this.dates.from }),
      ...(this.dates.to === undefined ? {} : { to: this.dates.to }),
    };
    return { match, impossible };
  }
}

/** At most this many alternatives (`a,b,…`) in one parameter. */
export const MAX_ALTERNATIVES = 200;

function choices(name: string, value: string): string[] {
  const alts = alternatives(value);
  if (alts.length > MAX_ALTERNATIVES) throw invalid(`search parameter "${name}" has more than ${MAX_ALTERNATIVES} alternatives`);
  return alts;
}

type IdChoice = { uid: string } | { accession: string; center: string | null };
/** `literal`: the id as stored, matched case-sensitively (a centre's own system names one exact id). */
type PatientChoice = { key: string; center: string | null; literal: string | null };

const UID_LIKE = /^[0-9]+(\.[0-9]+)+$/;

function uidOf(name: string, value: string): IdChoice {
  const uid = value.startsWith('urn:oid:') ? value.slice('urn:oid:'.length) : value;
  if (uid === '' || !PRINTABLE_ASCII.test(uid)) throw invalid(`search parameter "${name}": a StudyInstanceUID is ASCII (digits and dots)`);
  return { uid };
}

function accessionOf(name: string, value: string, center: string | null): IdChoice {
  if (value.length > 64) throw invalid(`search parameter "${name}": an accession number has at most 64 characters`);
  return { accession: value, center };
}

/**
 * `urn:dicom:uid|[urn:oid:]UID`, `urn:pacs-indexer:center:C:accession|A`, or a value alone (or
 * `|value`: no identifier here lacks a system): a UID when it looks like one, else an accession number.
 */
function identifierOf(name: string, t: Token): IdChoice | null {
  if (t.system === DICOM_UID_SYSTEM) return uidOf(name, t.code);
  if (t.system === null || t.system === '') {
    return t.code.startsWith('urn:oid:') || UID_LIKE.test(t.code) ? uidOf(name, t.code) : accessionOf(name, t.code, null);
  }
  const scoped = centerScopedSystem(t.system);
  return scoped?.kind === 'accession' ? accessionOf(name, t.code, scoped.center) : null;
}

function typedIdentifier(name: string, alt: string): IdChoice | null {
  const t = typedToken(name, alt);
  return t.system === IDENTIFIER_TYPE_SYSTEM && t.code === ACCESSION_TYPE ? accessionOf(name, t.value, null) : null;
}

/** The RUN system takes a valid RUT in any spelling; a centre's own system any id of that centre. */
function patientOf(t: Token): PatientChoice | null {
  if (t.system === null || t.system === '') return { key: patientKey(t.code)!, center: null, literal: null };
  if (t.system === RUN_SYSTEM) {
    const rut = parseRut(t.code);
    return rut === null ? null : { key: rut, center: null, literal: null };
  }
  const scoped = centerScopedSystem(t.system);
  if (scoped?.kind !== 'patient-id') return null;
  // `abc-1` and `ABC-1` at one centre are two patients: that centre's id is matched as stored
  // (a RUT in it still in any spelling, as everywhere).
  return { key: patientKey(t.code)!, center: scoped.center, literal: parseRut(t.code) === null ? t.code.trim() : null };
}

function modalityOf(name: string, t: Token): string | null {
  if (t.system !== null && t.system !== '' && t.system !== DCM_SYSTEM) return null;
  const code = t.code.toUpperCase();
  if (code.length > 16 || !PRINTABLE_ASCII.test(code)) throw invalid(`search parameter "${name}" must be a DICOM modality code (ASCII, at most 16 characters)`);
  return code;
}

function sameValue(name: string, values: string[], key: (v: string) => string, what: string): string {
  if (new Set(values.map(key)).size > 1) throw notSupported(`search parameter "${name}": an OR of different ${what} is not supported (search for each separately)`);
  return values[0]!;
}

const sameSet = (a: string[], b: string[]): boolean => a.length === b.length && a.every((x) => b.includes(x));

/** null: any centre. */
function unionCenters(centers: (string | null)[]): string[] | null {
  return centers.includes(null) ? null : [...new Set(centers as string[])];
}

function intersectCenters(a: string[] | null, b: string[] | null): string[] | null {
  if (a === null) return b;
  if (b === null) return a;
  return a.filter((c) => b.includes(c));
}
