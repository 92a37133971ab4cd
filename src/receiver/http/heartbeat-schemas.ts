/**
 * The agent heartbeat's JSON schemas (POST /api/v2/centers/:center/heartbeat, and the `health`
 * of GET /api/v2/centers). Strict on purpose: no unknown field, every string a bounded code or
 * timestamp of printable ASCII, every number a bounded count. Nothing a patient value could ride
 * in; the agent sends codes, never messages (docs/receiver.md, "Agent heartbeats").
 */

const COUNT = { type: ['integer', 'null'], minimum: 0, maximum: 1_000_000_000_000 } as const;
/** An error or finding code as the agent's errors carry them (DB_UNREACHABLE, missing_trigger). */
const CODE = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' } as const;
const NULLABLE_CODE = { ...CODE, type: ['string', 'null'] } as const;
const TIME = { type: ['string', 'null'], maxLength: 32, pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,6})?Z$' } as const;

const lastPass = {
  type: ['object', 'null'],
  additionalProperties: false,
  required: ['ok', 'finished_at'],
  properties: {
    command: { type: 'string', enum: ['initial', 'sync'] },
    ok: { type: 'boolean' },
    error_code: NULLABLE_CODE,
    finished_at: TIME,
    duration_ms: COUNT,
  },
} as const;

const lastReconcile = {
  type: ['object', 'null'],
  additionalProperties: false,
  required: ['ok', 'finished_at'],
  properties: {
    ok: { type: 'boolean' },
    dry_run: { type: 'boolean' },
    error_code: NULLABLE_CODE,
    finished_at: TIME,
    days_differing: COUNT,
  },
} as const;

export const heartbeatBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['source', 'agent_version'],
  properties: {
    source: { type: 'string', minLength: 1, maxLength: 32, pattern: '^[a-z0-9_-]+$', description: 'source kind (dcm4chee, orthanc, dimse)' },
    agent_version: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[0-9A-Za-z][0-9A-Za-z.+_-]*$', description: 'a version (0.1.0, 1.2.0-rc.1+build)' },
    backlog: { ...COUNT, description: 'changes queued, not yet delivered' },
    oldest_unsent_age_s: { ...COUNT, description: 'age in seconds of the oldest change not yet delivered' },
    last_pass: lastPass,
    dead_letters: COUNT,
    capture_ok: { type: ['boolean', 'null'], description: 'what `indexer check` would say of the capture; null: the source captures nothing of its own' },
    capture_problems: { type: 'array', maxItems: 32, items: CODE, description: 'finding codes of a broken capture' },
    last_reconcile: lastReconcile,
    incomplete_windows: { ...COUNT, description: 'days a crawling (C-FIND) source did not read completely' },
  },
} as const;

/** A stored heartbeat as GET /api/v2/centers shows it (`health`), or null when never reported. */
export const healthSchema = {
  type: ['object', 'null'],
  properties: {
    last_contact_at: { type: 'string' },
    silent: { type: 'boolean', description: 'no heartbeat within RECEIVER_HEARTBEAT_SILENT_AFTER_S' },
    source: { type: 'string' },
    agent_version: { type: 'string' },
    backlog: { type: ['integer', 'null'] },
    oldest_unsent_age_s: { type: ['integer', 'null'] },
    last_pass: {
      type: ['object', 'null'],
      properties: { command: { type: 'string' }, ok: { type: 'boolean' }, error_code: { type: ['string', 'null'] }, finished_at: { type: ['string', 'null'] } },
    },
    dead_letters: { type: ['integer', 'null'] },
    capture_ok: { type: ['boolean', 'null'] },
    capture_problems: { type: 'array', items: { type: 'string' } },
    last_reconcile: {
      type: ['object', 'null'],
      properties: {
        ok: { type: 'boolean' }, dry_run: { type: 'boolean' }, error_code: { type: ['string', 'null'] },
        finished_at: { type: ['string', 'null'] }, days_differing: { type: ['integer', 'null'] },
      },
    },
    incomplete_windows: { type: ['integer', 'null'] },
  },
} as const;

export const heartbeatAnswerSchema = {
  type: 'object',
  properties: { status: { type: 'string' }, received_at: { type: 'string' } },
} as const;
