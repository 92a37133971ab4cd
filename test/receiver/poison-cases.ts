/**
 * Poison records for the ingest routes: every stored column at and past its limit (after the
 * normalisation the receiver applies: patient key upper-cased, name key folded), every wrong type,
 * odd Unicode and NULs. Column sizes are those of sql/receiver/001_initial.sql.
 */
export type Expect =
  /** Rejected alone, with a reason naming `field` (v2: in `rejected`; legacy: 400). */
  | { reject: RegExp }
  /** Stored; `row` holds the expected columns, `normalised` the field counted as nulled/truncated. */
  | { row: Record<string, unknown>; normalised?: string };

export interface PoisonCase {
  name: string;
  patch: Record<string, unknown>;
  expect: Expect;
  /** Only meaningful on the v2 route (legacy records carry no version, tombstone, hash or per-record centre check). */
  v2Only?: boolean;
}

const SS = (n: number) => 'SS'.repeat(n);
const mods = (n: number) => Array.from({ length: n }, (_, i) => `M${String(i).padStart(2, '0')}`);
const joinedWithin = (list: string[], max: number) => {
  const out: string[] = [];
  for (const m of list) if ([...out, m].join('\\').length <= max) out.push(m);
  return out.join('\\');
};

const wrongTypes = (field: string, values: unknown[], extra: Partial<PoisonCase> = {}): PoisonCase[] =>
  values.map((v) => ({ name: `${field} = ${JSON.stringify(v)}`, patch: { [field]: v }, expect: { reject: new RegExp(field) }, ...extra }));

const identifierCases = (field: string, max: number): PoisonCase[] => [
  { name: `${field}: ${max} characters`, patch: { [field]: 'I'.repeat(max) }, expect: { row: { [field]: 'I'.repeat(max) } } },
  { name: `${field}: ${max} two-byte characters (a limit in characters, not bytes)`, patch: { [field]: 'é'.repeat(max) }, expect: { row: { [field]: 'é'.repeat(max) } } },
  { name: `${field}: ${max + 1} characters`, patch: { [field]: 'I'.repeat(max + 1) }, expect: { reject: new RegExp(field) } },
  ...wrongTypes(field, [{}, ['x'], true]),
];

const freeTextCases = (field: string, max: number): PoisonCase[] => [
  { name: `${field}: ${max} characters`, patch: { [field]: 'T'.repeat(max) }, expect: { row: { [field]: 'T'.repeat(max) } } },
  { name: `${field}: ${max + 1} characters → truncated`, patch: { [field]: 'é'.repeat(max + 1) }, expect: { row: { [field]: 'é'.repeat(max) }, normalised: field } },
  { name: `${field}: 1 MB → truncated`, patch: { [field]: 'x'.repeat(1_000_000) }, expect: { row: { [field]: 'x'.repeat(max) }, normalised: field } },
  ...wrongTypes(field, [{ a: 1 }, [], false]),
];

export const POISON_CASES: PoisonCase[] = [
  // study_iuid VARCHAR(255) ASCII, the identity
  { name: 'study_iuid: 255 characters', patch: { study_iuid: `9.${'1'.repeat(253)}` }, expect: { row: {} } },
  { name: 'study_iuid: 256 characters', patch: { study_iuid: `9.${'1'.repeat(254)}` }, expect: { reject: /study_iuid/ } },
  { name: 'study_iuid: not ASCII', patch: { study_iuid: '1.2.é' }, expect: { reject: /study_iuid/ } },
  { name: 'study_iuid: 1 MB', patch: { study_iuid: '1'.repeat(1_000_000) }, expect: { reject: /study_iuid/ } },
  ...wrongTypes('study_iuid', [123, null, {}, ['1.2']]),

  // patient_id VARCHAR(255); its key (upper-cased) VARCHAR(255) too
  ...identifierCases('patient_id', 255),
  { name: 'patient_id: 255 four-byte characters', patch: { patient_id: '😀'.repeat(255) }, expect: { row: { patient_id: '😀'.repeat(255) } } },
  { name: 'patient_id: 127 × ß (key 254 characters)', patch: { patient_id: 'ß'.repeat(127) }, expect: { row: { patient_key: SS(127) } } },
  { name: 'patient_id: 130 × ß (key 260 characters once upper-cased)', patch: { patient_id: 'ß'.repeat(130) }, expect: { reject: /patient_id/ } },
  { name: 'patient_id: 86 × ﬃ (key 258 characters)', patch: { patient_id: 'ﬃ'.repeat(86) }, expect: { reject: /patient_id/ } },
  { name: 'patient_id: NULs dropped', patch: { patient_id: 'AB\u0000C' }, expect: { row: { patient_id: 'ABC', patient_key: 'ABC' } } },
  { name: 'patient_id: a number is its text', patch: { patient_id: 12345 }, expect: { row: { patient_id: '12345' } } },
  { name: 'patient_id: 1 MB', patch: { patient_id: 'x'.repeat(1_000_000) }, expect: { reject: /patient_id/ } },
  ...identifierCases('patient_id_issuer', 255),
  ...identifierCases('accession_no', 64),
  ...identifierCases('study_id', 64),

  // free text: truncated to the column
  ...freeTextCases('patient_name', 255),
  ...freeTextCases('patient_sex', 16),
  ...freeTextCases('study_description', 255),
  ...freeTextCases('referring_physician', 255),
  ...freeTextCases('study_modality', 255),
  { name: 'patient_name: 255 × ß (folded name key 510 → 255)', patch: { patient_name: 'ß'.repeat(255) }, expect: { row: { patient_name: 'ß'.repeat(255), name_key: SS(128).slice(0, 255) } } },
  { name: 'patient_name: 300 emoji (truncated by code points, no split pair)', patch: { patient_name: '😀'.repeat(300) }, expect: { row: { patient_name: '😀'.repeat(255), name_key: '😀'.repeat(255) }, normalised: 'patient_name' } },
  { name: 'patient_name: a letter with 400 combining marks', patch: { patient_name: `e${'\u0301'.repeat(400)}` }, expect: { row: { patient_name: `e${'\u0301'.repeat(254)}`, name_key: 'E' }, normalised: 'patient_name' } },
  { name: 'patient_name: an unpaired surrogate', patch: { patient_name: 'A\ud800B^C' }, expect: { row: { patient_name: 'A\ufffdB^C' } } },
  { name: 'patient_name: right-to-left override and NULs', patch: { patient_name: '\u202eZED\u0000^X' }, expect: { row: { patient_name: '\u202eZED^X' } } },

  // modalities: each ≤ 16 printable ASCII (study_modalities.modality), joined ≤ 255 (studies.modalities)
  { name: 'modalities: 100 distinct (joined 399 characters)', patch: { modalities: mods(100) }, expect: { row: { modalities: joinedWithin(mods(100), 255) }, normalised: 'modalities' } },
  { name: 'modalities: from a long mods_in_study', patch: { modalities: undefined, study_modality: mods(100).join('\\') }, expect: { row: { modalities: joinedWithin(mods(100).join('\\').slice(0, 255).split('\\'), 255) }, normalised: 'study_modality' } },
  { name: 'modalities: non-ASCII and over-long entries dropped', patch: { modalities: ['ÇT', 'X'.repeat(17), 'MR'] }, expect: { row: { modalities: 'MR' }, normalised: 'modalities' } },
  ...wrongTypes('modalities', ['CT', [1, 2], [{}], { CT: 1 }]),

  // counts: INT NULL; null/absent/'' is unknown (null); a negative or overflowing one is unknown too (null, counted); a non-integer is wrong
  { name: 'study_series: 2^31 - 1', patch: { study_series: 2 ** 31 - 1 }, expect: { row: { study_series: 2 ** 31 - 1 } } },
  { name: 'study_series: 2^31', patch: { study_series: 2 ** 31 }, expect: { row: { study_series: null }, normalised: 'study_series' } },
  { name: 'study_instances: 2^40', patch: { study_instances: 2 ** 40 }, expect: { row: { study_instances: null }, normalised: 'study_instances' } },
  { name: 'study_instances: 1e308', patch: { study_instances: 1e308 }, expect: { row: { study_instances: null }, normalised: 'study_instances' } },
  { name: 'study_instances: "2147483648"', patch: { study_instances: '2147483648' }, expect: { row: { study_instances: null }, normalised: 'study_instances' } },
  { name: 'study_instances: -1', patch: { study_instances: -1 }, expect: { row: { study_instances: null }, normalised: 'study_instances' } },
  ...wrongTypes('study_instances', [1.5, 'many', 'NaN', true, {}, []]),
  ...wrongTypes('study_series', ['1e3', [3]]),
  // integers given as text: ASCII digits only — no blank of any kind, no '+', hex, exponent or fraction
  ...wrongTypes('study_series', [' 5', '5 ', '5\u00a0', '\t5', '5\n', '+5', '0x10', '1e2', '5.0', '٥']),
  { name: 'study_series: null (the source cannot tell) → null, not counted', patch: { study_series: null, study_instances: null }, expect: { row: { study_series: null, study_instances: null } } },
  { name: 'study_series: "" → null, not counted', patch: { study_series: '' }, expect: { row: { study_series: null } } },
  { name: 'study_series: 0 stays 0 (known to be none)', patch: { study_series: 0, study_instances: '0' }, expect: { row: { study_series: 0, study_instances: 0 } } },
  { name: 'study_series: "007" (leading zeros are digits)', patch: { study_series: '007' }, expect: { row: { study_series: 7 } } },
  { name: 'study_series: "-3" (a negative count as text, like -3)', patch: { study_series: '-3' }, expect: { row: { study_series: null }, normalised: 'study_series' } },
  { name: 'study_series: "-0" (negative zero is a negative count)', patch: { study_series: '-0' }, expect: { row: { study_series: null }, normalised: 'study_series' } },

  // keys: BIGINT, safe integers ≥ 0
  { name: 'study_pk: 2^53 - 1', patch: { study_pk: Number.MAX_SAFE_INTEGER }, expect: { row: { study_pk: Number.MAX_SAFE_INTEGER } } },
  { name: 'study_pk: "12"', patch: { study_pk: '12' }, expect: { row: { study_pk: 12 } } },
  ...wrongTypes('study_pk', [2 ** 53 + 2, -1, 1.5, {}, 'x']),
  ...wrongTypes('patient_pk', [-5, [], '1.0']),
  ...wrongTypes('study_pk', [' 12', '12\u00a0', '+12', '-0', '0x10']),

  // source_seq (v2): an integer (or its digits, like every integer field) from 0 to 2^53 − 2^32
  { name: 'source_seq: "5"', patch: { source_seq: '5' }, expect: { row: { source_seq: 5 } }, v2Only: true },
  { name: 'source_seq: "007"', patch: { source_seq: '007' }, expect: { row: { source_seq: 7 } }, v2Only: true },
  ...wrongTypes('source_seq', [' 5', '5 ', '5\u00a0', '\t5', '5\n', '+5', '-0', '0x10', '1e2', '5.0'], { v2Only: true }),
  ...wrongTypes('source_seq', [-1, 1.5, 2 ** 53 - 2 ** 32 + 1, 2 ** 53 - 1, 2 ** 53, '9007199254740991', null, {}], { v2Only: true }),

  // study_datetime DATETIME: unusable → null, counted
  { name: 'study_datetime: zero date', patch: { study_datetime: '0000-00-00 00:00:00' }, expect: { row: { study_datetime: null }, normalised: 'study_datetime' } },
  { name: 'study_datetime: impossible day', patch: { study_datetime: '2020-02-30T00:00:00' }, expect: { row: { study_datetime: null }, normalised: 'study_datetime' } },
  { name: 'study_datetime: year 999', patch: { study_datetime: '0999-12-31T00:00:00' }, expect: { row: { study_datetime: null }, normalised: 'study_datetime' } },
  { name: 'study_datetime: free text', patch: { study_datetime: 'yesterday' }, expect: { row: { study_datetime: null }, normalised: 'study_datetime' } },
  { name: 'study_datetime: a date alone is midnight', patch: { study_datetime: '2020-01-02' }, expect: { row: { study_datetime: '2020-01-02 00:00:00' } } },
  { name: 'study_datetime: None', patch: { study_datetime: 'None' }, expect: { row: { study_datetime: null } } },
  { name: 'study_datetime: blank', patch: { study_datetime: '  ' }, expect: { row: { study_datetime: null } } },
  { name: 'study_datetime: 9999-12-31T23:59:59', patch: { study_datetime: '9999-12-31T23:59:59' }, expect: { row: { study_datetime: '9999-12-31 23:59:59' } } },
  { name: 'study_datetime: fractional seconds', patch: { study_datetime: '2020-01-01T10:00:00.123456' }, expect: { row: { study_datetime: '2020-01-01 10:00:00' } } },
  ...wrongTypes('study_datetime', [{}, [], true]),

  // patient_birthdate DATE
  { name: 'patient_birthdate: zero date', patch: { patient_birthdate: '0000-00-00' }, expect: { row: { patient_birthdate: null }, normalised: 'patient_birthdate' } },
  { name: 'patient_birthdate: impossible day', patch: { patient_birthdate: '19800231' }, expect: { row: { patient_birthdate: null }, normalised: 'patient_birthdate' } },
  { name: 'patient_birthdate: a number', patch: { patient_birthdate: 19800115 }, expect: { row: { patient_birthdate: '1980-01-15' } } },
  ...wrongTypes('patient_birthdate', [{}, ['1980-01-15'], true]),

  // v2-only fields
  ...wrongTypes('center', [{}, ['P01'], 123, true, 'OTHER'], { v2Only: true }),
  ...wrongTypes('deleted', ['yes', 1], { v2Only: true }),
  ...wrongTypes('content_hash', ['XYZ', 123, 'A'.repeat(32)], { v2Only: true }),
];
