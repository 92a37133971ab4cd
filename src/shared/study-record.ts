import { IsOptional, Type, type Static, type TSchema } from 'typebox';

/**
 * The study record of the public contract (shared/spec/contract.md): one JSON object per study,
 * the unit the agent sends and the receiver stores. Field names and meanings are fixed by the
 * contract; more fields may be added, receivers ignore unknown ones.
 *
 * STUDY_FIELDS is the one declaration of it. Derived from it: the TypeScript type, the JSON schema
 * the receiver's routes publish (/openapi.json), the field lists, the content hash, the receiver's
 * readers, columns and limits, and the legacy record. Adding a field is one entry here plus a
 * receiver migration for its column (test/shared/study-record.test.ts holds the two together).
 */

/** What a field is; it decides how the receiver reads, stores and returns it (receiver/record-fields.ts). */
export type FieldKind =
  /** The centre code: a v2 record's own must match the URL; stored as centers.id. */
  | 'center'
  /** The study's identity: printable ASCII, required. */
  | 'uid'
  /** A PACS primary key (BIGINT): a safe integer >= 0, or null. */
  | 'key'
  /** Text stored faithfully or not at all: over-long rejects the record (a cut one would name someone else). */
  | 'identifier'
  /** Free text: over-long is truncated to its column, stored and counted. */
  | 'text'
  /** YYYY-MM-DD (DATE). */
  | 'date'
  /** YYYY-MM-DDTHH:MM:SS on the wire, DATETIME in the store. */
  | 'datetime'
  /** Distinct modalities: joined with `\` in their column, one row each in study_modalities. */
  | 'modalities'
  /** A count (INT >= 0), or null: the source cannot tell (C-FIND answers none; a 0 would say "no series"). */
  | 'count'
  /** The version (source_seq). */
  | 'version'
  /** The tombstone flag. */
  | 'deleted'
  /** The agent's fingerprint (content-hash.ts), stored as sent. */
  | 'hash';

export interface FieldSpec {
  /** The JSON type on the wire, nullability included; the TypeScript type is read from it. */
  readonly schema: TSchema;
  readonly kind: FieldKind;
  /** Its column in the receiver's `studies` table; null: stored another way (the centre, as center_id). */
  readonly column: string | null;
  /** What its column holds, in characters (sql/receiver): the receiver's limit and the agent's. */
  readonly chars?: number;
  /**
   * Its place in the content hash (1, 2, …); absent: not hashed. Hashing one more field, or
   * renumbering, changes every stored hash (reconciliation would then resend every study).
   */
  readonly hash?: number;
  /** Its name in the legacy "seed v1" record; absent: the legacy record does not carry it. */
  readonly legacy?: string;
  /** False: stored, but not returned by the read API. */
  readonly served?: false;
}

// `type: [T, 'null']` rather than TypeBox's anyOf: the published schema stays as it always was, and
// the response serialiser keeps its fast path (anyOf is tried branch by branch).
const nullableString = (description?: string) =>
  Type.Unsafe<string | null>({ type: ['string', 'null'], ...(description === undefined ? {} : { description }) });
const nullableInteger = () => Type.Unsafe<number | null>({ type: ['integer', 'null'] });

export const STUDY_FIELDS = {
  center: { schema: Type.String(), kind: 'center', column: null, legacy: 'center' },
  study_iuid: { schema: Type.String(), kind: 'uid', column: 'study_iuid', chars: 255, hash: 1, legacy: 'study_iuid' },
  study_pk: { schema: nullableInteger(), kind: 'key', column: 'study_pk', hash: 3, legacy: 'study_pk' },
  patient_pk: { schema: nullableInteger(), kind: 'key', column: 'patient_pk', hash: 4, legacy: 'patient_pk' },
  patient_id: { schema: nullableString(), kind: 'identifier', column: 'patient_id', chars: 255, hash: 5, legacy: 'patient_id' },
  patient_id_issuer: { schema: nullableString(), kind: 'identifier', column: 'patient_id_issuer', chars: 255, hash: 6 },
  /** DICOM PN as stored: FAMILY^GIVEN^MIDDLE. */
  patient_name: { schema: nullableString(), kind: 'text', column: 'patient_name', chars: 255, hash: 7, legacy: 'patient_name' },
  patient_birthdate: { schema: nullableString('YYYY-MM-DD'), kind: 'date', column: 'patient_birthdate', hash: 8 },
  patient_sex: { schema: nullableString(), kind: 'text', column: 'patient_sex', chars: 16, hash: 9 },
  study_datetime: {
    schema: nullableString('YYYY-MM-DDTHH:MM:SS, centre local time'), kind: 'datetime', column: 'study_datetime', hash: 10, legacy: 'study_datetime',
  },
  study_description: { schema: nullableString(), kind: 'text', column: 'study_description', chars: 255, hash: 11, legacy: 'study_description' },
  /** mods_in_study as stored, e.g. "CT\\SR". */
  study_modality: { schema: nullableString(), kind: 'text', column: 'study_modality', chars: 255, hash: 12, legacy: 'study_modality' },
  /** Joined with `\`, within the column. */
  modalities: { schema: Type.Array(Type.String()), kind: 'modalities', column: 'modalities', chars: 255, hash: 13 },
  /** Null: the source cannot tell (hashed as null, apart from 0). */
  study_series: { schema: nullableInteger(), kind: 'count', column: 'study_series', hash: 14, legacy: 'study_series' },
  study_instances: { schema: nullableInteger(), kind: 'count', column: 'study_instances', hash: 15, legacy: 'study_instances' },
  accession_no: { schema: nullableString(), kind: 'identifier', column: 'accession_no', chars: 64, hash: 16 },
  study_id: { schema: nullableString(), kind: 'identifier', column: 'study_id', chars: 64, hash: 17 },
  referring_physician: { schema: nullableString(), kind: 'text', column: 'referring_physician', chars: 255, hash: 18 },
  /** Version: grows with every change at a centre; the receiver keeps the highest. */
  source_seq: { schema: Type.Integer(), kind: 'version', column: 'source_seq' },
  /** A tombstone: the study no longer exists at the centre. */
  deleted: { schema: Type.Boolean(), kind: 'deleted', column: 'deleted', hash: 2 },
  /** Extra field (the contract allows more): fingerprint for reconciliation. The agent always sends a string. */
  content_hash: {
    schema: Type.Optional(Type.Unsafe<string>({ type: ['string', 'null'], description: "the agent's contentHash(record): 32 lowercase hex; stored, not recomputed" })),
    kind: 'hash', column: 'content_hash', chars: 32, served: false,
  },
} as const satisfies Record<string, FieldSpec>;

type Fields = typeof STUDY_FIELDS;
export type FieldName = keyof Fields;

const recordType = Type.Object(
  Object.fromEntries(Object.entries(STUDY_FIELDS).map(([name, f]) => [name, f.schema])) as { [K in FieldName]: Fields[K]['schema'] },
);

export type StudyRecord = Static<typeof recordType>;

/** The fields of one kind, as a type. */
export type FieldOfKind<K extends FieldKind> = { [N in FieldName]: Fields[N]['kind'] extends K ? N : never }[FieldName];
/** The fields whose column has a size in characters (`chars`), as a type. */
export type SizedField = { [N in FieldName]: Fields[N] extends { chars: number } ? N : never }[FieldName];
/** The fields with a column of their own in the receiver's `studies` table, as a type. */
export type StoredField = { [N in FieldName]: Fields[N]['column'] extends string ? N : never }[FieldName];
/** The hashed fields, as a type. */
export type HashedField = { [N in FieldName]: Fields[N] extends { hash: number } ? N : never }[FieldName];

/** One field's declaration with its name, in declaration (contract) order. */
export type DeclaredField = FieldSpec & { readonly name: FieldName };

export const DECLARED_FIELDS: readonly DeclaredField[] = Object.entries(STUDY_FIELDS).map(([name, f]) => ({ ...f, name: name as FieldName }));

/** The fields with a column of their own, in declaration order. */
export const STORED_FIELDS: readonly (DeclaredField & { readonly name: StoredField; readonly column: string })[] = DECLARED_FIELDS.filter(
  (f): f is DeclaredField & { name: StoredField; column: string } => f.column !== null,
);

export function fieldsOfKind<K extends FieldKind>(kind: K): FieldOfKind<K>[] {
  return DECLARED_FIELDS.filter((f) => f.kind === kind).map((f) => f.name as FieldOfKind<K>);
}

const isOptional = (f: DeclaredField): boolean => IsOptional(f.schema);

/** The keys every record has (the contract's fields, extras such as content_hash aside), in contract order. */
export const STUDY_RECORD_FIELDS: readonly FieldName[] = DECLARED_FIELDS.filter((f) => !isOptional(f)).map((f) => f.name);

/**
 * The record's JSON schema, as the receiver publishes it (read routes' items, the ingest body's
 * documentation). No `required`: its routes have always served and documented it so.
 */
export const studyRecordSchema = { type: 'object', properties: recordType.properties } as const;

/**
 * What a field holds when nothing is known of it (a tombstone's fields other than its identity).
 * A count is 0, not null: tombstones have always been hashed with 0, and their stored hashes must
 * not change (reconciliation would resend every deletion); a tombstone's fields say nothing anyway.
 */
function emptyValue(f: DeclaredField): unknown {
  if (f.kind === 'modalities') return [];
  if (f.kind === 'count') return 0;
  if (f.kind === 'deleted') return false;
  return null;
}

/**
 * A record whose fields say nothing (null, empty, 0), for `center` and `study_iuid`; version 0.
 * Callers set what they know (a tombstone its version and flag).
 */
export function blankStudyRecord(center: string, studyIuid: string): StudyRecord {
  const r: Record<string, unknown> = {};
  for (const f of DECLARED_FIELDS) if (!isOptional(f)) r[f.name] = emptyValue(f);
  return { ...(r as StudyRecord), center, study_iuid: studyIuid, source_seq: 0 };
}

/** Splits mods_in_study ("CT\\SR", "CT\\\\SR ", "") into distinct, trimmed, upper-cased modalities. */
export function splitModalities(mods: string | null): string[] {
  if (!mods) return [];
  const out: string[] = [];
  for (const part of mods.split('\\')) {
    const m = part.trim().toUpperCase();
    if (m && !out.includes(m)) out.push(m);
  }
  return out;
}
