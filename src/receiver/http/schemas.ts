/** JSON schemas of the routes: fastify validates and serialises with them, /openapi.json lists them. */

const str = { type: ['string', 'null'] } as const;
const int = { type: ['integer', 'null'] } as const;

export const studyRecordSchema = {
  type: 'object',
  properties: {
    center: { type: 'string' },
    study_iuid: { type: 'string' },
    study_pk: int,
    patient_pk: int,
    patient_id: str,
    patient_id_issuer: str,
    patient_name: str,
    patient_birthdate: { type: ['string', 'null'], description: 'YYYY-MM-DD' },
    patient_sex: str,
    study_datetime: { type: ['string', 'null'], description: 'YYYY-MM-DDTHH:MM:SS, centre local time' },
    study_description: str,
    study_modality: str,
    modalities: { type: 'array', items: { type: 'string' } },
    study_series: { type: 'integer' },
    study_instances: { type: 'integer' },
    accession_no: str,
    study_id: str,
    referring_physician: str,
    source_seq: { type: 'integer' },
    deleted: { type: 'boolean' },
    content_hash: { type: ['string', 'null'], description: "the agent's contentHash(record): 32 lowercase hex; stored, not recomputed" },
  },
} as const;

const errorSchema = {
  type: 'object',
  properties: { error: { type: 'string' }, message: { type: 'string' } },
} as const;

export const errorResponses = {
  400: errorSchema,
  401: errorSchema,
  403: errorSchema,
  413: errorSchema,
  429: errorSchema,
} as const;

const DATE = '^\\d{4}-\\d{2}-\\d{2}$';
/** Identifiers stored in ASCII columns: anything else could never match, and MySQL refuses to compare it. */
const ASCII = '^[\\x20-\\x7e]+$';

export const studyQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    patient_id: { type: 'string', minLength: 1, maxLength: 255 },
    center: { type: 'string', minLength: 1, maxLength: 64, pattern: ASCII },
    modality: { type: 'string', minLength: 1, maxLength: 16, pattern: ASCII },
    from: { type: 'string', pattern: DATE, format: 'date', description: 'YYYY-MM-DD, inclusive' },
    to: { type: 'string', pattern: DATE, format: 'date', description: 'YYYY-MM-DD, inclusive' },
    accession_no: { type: 'string', minLength: 1, maxLength: 64 },
    study_iuid: { type: 'string', minLength: 1, maxLength: 255, pattern: ASCII },
    name: { type: 'string', minLength: 1, maxLength: 255, description: 'family-name prefix, case/accent-insensitive' },
    description: { type: 'string', minLength: 1, maxLength: 255, description: 'contains, case-insensitive' },
    include_deleted: { type: 'boolean', default: false },
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
    cursor: { type: 'string', maxLength: 200 },
  },
} as const;

/** Routes without query parameters still refuse unknown ones, by name. */
export const noQuerySchema = { type: 'object', additionalProperties: false, properties: {} } as const;

export const pageQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    include_deleted: { type: 'boolean', default: false },
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 1000 },
    cursor: { type: 'string', maxLength: 200 },
  },
} as const;

export const studyPageSchema = {
  type: 'object',
  properties: {
    items: { type: 'array', items: studyRecordSchema },
    next_cursor: { type: ['string', 'null'] },
  },
} as const;

export const ingestBodySchema = {
  type: 'object',
  required: ['records'],
  properties: { records: { type: 'array', items: {} } },
} as const;

export const ingestResultSchema = {
  type: 'object',
  properties: {
    stored: { type: 'integer' },
    unchanged: { type: 'integer' },
    stale: { type: 'integer' },
    rejected: {
      type: 'array',
      items: {
        type: 'object',
        properties: { index: { type: 'integer' }, study_iuid: { type: ['string', 'null'] }, reason: { type: 'string' } },
      },
    },
    normalised: {
      type: 'object',
      description: 'per field, how many accepted records had a value nulled (unusable) or truncated (too long) to be stored',
      additionalProperties: { type: 'integer' },
    },
  },
} as const;

export const centersSchema = {
  type: 'object',
  properties: {
    items: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          code: { type: 'string' },
          name: { type: ['string', 'null'] },
          studies: { type: 'integer' },
          last_seen: { type: ['string', 'null'] },
          last_source_seq: { type: ['integer', 'null'] },
        },
      },
    },
  },
} as const;

export const statsQuerySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['group_by'],
  properties: { group_by: { type: 'string', enum: ['center', 'modality', 'month'] } },
} as const;

export const statsSchema = {
  type: 'object',
  properties: {
    group_by: { type: 'string' },
    items: {
      type: 'array',
      items: { type: 'object', properties: { key: { type: ['string', 'null'] }, studies: { type: 'integer' } } },
    },
  },
} as const;
