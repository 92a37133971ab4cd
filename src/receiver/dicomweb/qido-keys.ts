/**
 * The study-level attributes this index knows (PS3.6 keyword ↔ tag ↔ VR), how each is matched
 * when it is a query key, and when it is returned (docs/dicomweb.md, conformance statement).
 */

export type Vr = 'AE' | 'CS' | 'DA' | 'IS' | 'LO' | 'PN' | 'SH' | 'TM' | 'UI' | 'UR';

/** How a query key on the attribute is turned into a condition; null: not a matching key (ignored). */
export type MatchKind =
  | 'date' | 'time' | 'text' | 'patient-name' | 'physician-name' | 'patient-id'
  | 'uid-list' | 'modalities' | 'institution' | 'center-code';

/**
 * `always`: in every answer (empty ones without Value); `registered`: only when the study's centre
 * registered what it says (RetrieveURL, RetrieveAETitle); `included`: on includefield (or when matched on).
 */
export type Returned = 'always' | 'registered' | 'included';

export interface QidoAttribute {
  readonly keyword: string;
  /** 8 upper-case hex digits, the DICOM JSON key. */
  readonly tag: string;
  readonly vr: Vr;
  readonly match: MatchKind | null;
  readonly returned: Returned;
  /** A list of values (`\`-separated or the key repeated) is any-of; other keys may be given once. */
  readonly list?: true;
  /** Private: reachable by tag only (a private element has no standard keyword). */
  readonly private?: true;
}

/** The private block's creator (0009,0010) that reserves (0009,10xx) for this index. */
export const PRIVATE_CREATOR = 'PACS-INDEXER';

const A = (keyword: string, tag: string, vr: Vr, match: MatchKind | null, returned: Returned, extra: Partial<QidoAttribute> = {}): QidoAttribute =>
  ({ keyword, tag, vr, match, returned, ...extra });

/** In ascending tag order: the order attributes appear in every answer. */
export const ATTRIBUTES: readonly QidoAttribute[] = [
  A('SpecificCharacterSet', '00080005', 'CS', null, 'always'),
  A('StudyDate', '00080020', 'DA', 'date', 'always'),
  A('StudyTime', '00080030', 'TM', 'time', 'always'),
  A('AccessionNumber', '00080050', 'SH', 'text', 'always'),
  A('RetrieveAETitle', '00080054', 'AE', null, 'registered'),
  A('ModalitiesInStudy', '00080061', 'CS', 'modalities', 'always', { list: true }),
  A('InstitutionName', '00080080', 'LO', 'institution', 'always'),
  A('ReferringPhysicianName', '00080090', 'PN', 'physician-name', 'always'),
  A('StudyDescription', '00081030', 'LO', 'text', 'included'),
  A('RetrieveURL', '00081190', 'UR', null, 'registered'),
  A('PrivateCreator', '00090010', 'LO', null, 'always', { private: true }),
  A('CenterCode', '00091001', 'LO', 'center-code', 'always', { private: true, list: true }),
  A('PatientName', '00100010', 'PN', 'patient-name', 'always'),
  A('PatientID', '00100020', 'LO', 'patient-id', 'always'),
  A('IssuerOfPatientID', '00100021', 'LO', null, 'included'),
  A('PatientBirthDate', '00100030', 'DA', null, 'always'),
  A('PatientSex', '00100040', 'CS', null, 'always'),
  A('StudyInstanceUID', '0020000D', 'UI', 'uid-list', 'always', { list: true }),
  A('StudyID', '00200010', 'SH', 'text', 'always'),
  A('NumberOfStudyRelatedSeries', '00201206', 'IS', null, 'always'),
  A('NumberOfStudyRelatedInstances', '00201208', 'IS', null, 'always'),
];

const BY_TAG = new Map(ATTRIBUTES.map((a) => [a.tag, a]));
// Keywords are matched case-insensitively: a client writing `patientname` means PatientName.
const BY_KEYWORD = new Map(ATTRIBUTES.filter((a) => !a.private).map((a) => [a.keyword.toLowerCase(), a]));

const TAG = /^[0-9a-fA-F]{8}$/;

/** The attribute a query key names (keyword, any case, or 8 hex digits, any case); null when unknown. */
export function attributeOf(key: string): QidoAttribute | null {
  if (TAG.test(key)) return BY_TAG.get(key.toUpperCase()) ?? null;
  return BY_KEYWORD.get(key.toLowerCase()) ?? null;
}

/** The attribute with this keyword (the dictionary's own name), for the renderers. */
export function attributeNamed(keyword: string): QidoAttribute {
  const a = ATTRIBUTES.find((x) => x.keyword === keyword);
  if (!a) throw new Error(`no QIDO attribute ${keyword}`);
  return a;
}

/** How a key is named in an error message: its keyword (never the submitted value). */
export function keyName(a: QidoAttribute): string {
  return a.private ? a.tag : a.keyword;
}
