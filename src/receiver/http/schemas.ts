import { fieldsOfKind, studyRecordSchema } from '../../shared/study-record.js';
import { healthSchema } from './heartbeat-schemas.js';

/** JSON schemas of the routes: fastify validates and serialises with them, /openapi.json lists them. */

/** The study record's, derived from its one declaration (shared/study-record.ts). */
export { studyRecordSchema };

/**
 * The record as the legacy reads (/api/v1/…) answer it: counts are always integers there, as their
 * clients have always had them (read-routes.ts answers an unknown count as 0 on these routes only).
 */
export const legacyStudyRecordSchema = {
  ...studyRecordSchema,
  properties: { ...studyRecordSchema.properties, ...Object.fromEntries(fieldsOfKind('count').map((f) => [f, { type: 'integer' }])) },
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

/**
 * The batch as /openapi.json documents it. Fastify validates the looser ingestBodySchema: each
 * record is validated alone (a bad one is rejected with its reason, the others are stored).
 */
export const ingestBodyDocs = {
  ...ingestBodySchema,
  properties: {
    records: { type: 'array', items: studyRecordSchema, description: 'each record is validated alone: one that fails is rejected with its index and reason, the others are stored' },
  },
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
          dicomweb_url: { type: ['string', 'null'], description: "the centre's own DICOMweb root, where its images are retrieved" },
          retrieve_aet: { type: ['string', 'null'], description: "the AE title of the centre's PACS" },
          health: { ...healthSchema, description: "the agent's latest heartbeat, judged now; null: it never reported" },
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
