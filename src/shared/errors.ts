/**
 * The few error classes of the project. Each has a stable `code` that scripts and tests rely on;
 * ERROR_TABLE below is the one place that maps them to exit codes (both CLIs) and HTTP statuses
 * (the receiver's answer to a request that met one).
 * Messages must never contain patient data: they are logged at error level.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'DB_UNREACHABLE'
  | 'DB_PRIVILEGES'
  | 'CAPTURE_CONFLICT'
  | 'CAPTURE_MISSING'
  /** A pass delivered what was queued, but the capture is broken (triggers, their definer, the queue). */
  | 'CAPTURE_UNHEALTHY'
  /** `uninstall` refused: changes are still queued and would be lost (`--force` discards them). */
  | 'QUEUE_NOT_EMPTY'
  | 'LOCK_BUSY'
  | 'RECEIVER_AUTH'
  | 'RECEIVER_UNAVAILABLE'
  | 'RECEIVER_PROTOCOL'
  /** The receiver holds newer versions than the agent just allocated: its versions went backwards. */
  | 'VERSIONS_BEHIND'
  | 'SCHEMA_TOO_NEW'
  | 'INVALID_INPUT'
  | 'INTERRUPTED'
  /** Receiver: its database does not answer, refuses writes or is too busy, during a request. */
  | 'STORE_UNAVAILABLE'
  /** Receiver: the database named in RECEIVER_DATABASE_URL does not exist. */
  | 'DB_MISSING'
  /** Receiver: the sql/receiver migrations are not installed beside the code (a broken install). */
  | 'MIGRATIONS_MISSING'
  /** Receiver: the database schema is older than this receiver (run `indexer-receiver migrate`). */
  | 'SCHEMA_OUTDATED'
  /** Agent: its own state file (checkpoints, study index, dead letters) cannot be read or written. */
  | 'STATE_FILE_IO'
  /** Agent: the source's change log restarted below the acknowledged position (a replaced or restored PACS). */
  | 'CHANGE_LOG_RESET'
  /** Receiver: a search would take longer than its time budget (narrow it: a date range, a patient, a centre). */
  | 'QUERY_TOO_BROAD';

export class IndexerError extends Error {
  readonly code: ErrorCode;
  /** What the operator should do about it, printed after the message. */
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; hint?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
  }
}

/** Bad configuration or bad command-line input: fix the config, nothing was touched. */
export class ConfigError extends IndexerError {
  constructor(message: string, options: { cause?: unknown; hint?: string } = {}) {
    super('CONFIG_INVALID', message, options);
  }
}

/** A database problem the operator has to fix (unreachable, privileges, foreign objects in the way). */
export class DatabaseError extends IndexerError {}

/** Another pass holds the per-database lock. */
export class LockBusyError extends IndexerError {
  constructor(message: string) {
    super('LOCK_BUSY', message);
  }
}

/** The receiver refused or could not be reached; the checkpoint did not move. */
export class DeliveryError extends IndexerError {
  readonly status: number | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; hint?: string; status?: number } = {}) {
    super(code, message, options);
    this.status = options.status;
  }
}

/**
 * The one table from code to outcome: `exit`, the CLIs' exit code (0 is success, 1 an unexpected
 * failure); `http`, the receiver's status when a request meets the error (a 5xx body says nothing
 * internal). Codes a request cannot meet are 500: reaching a client at all would be a bug.
 */
export const ERROR_TABLE: Readonly<Record<ErrorCode, { exit: number; http: number }>> = {
  CONFIG_INVALID: { exit: 2, http: 500 },
  INVALID_INPUT: { exit: 2, http: 400 },
  DB_UNREACHABLE: { exit: 3, http: 503 },
  DB_PRIVILEGES: { exit: 3, http: 500 },
  CAPTURE_CONFLICT: { exit: 3, http: 500 },
  CAPTURE_MISSING: { exit: 3, http: 500 },
  CAPTURE_UNHEALTHY: { exit: 3, http: 500 },
  QUEUE_NOT_EMPTY: { exit: 3, http: 500 },
  SCHEMA_TOO_NEW: { exit: 3, http: 500 },
  LOCK_BUSY: { exit: 4, http: 500 },
  RECEIVER_AUTH: { exit: 5, http: 401 },
  RECEIVER_UNAVAILABLE: { exit: 6, http: 503 },
  RECEIVER_PROTOCOL: { exit: 6, http: 500 },
  VERSIONS_BEHIND: { exit: 6, http: 500 },
  INTERRUPTED: { exit: 130, http: 500 },
  STORE_UNAVAILABLE: { exit: 3, http: 503 },
  DB_MISSING: { exit: 3, http: 500 },
  MIGRATIONS_MISSING: { exit: 3, http: 500 },
  SCHEMA_OUTDATED: { exit: 3, http: 500 },
  STATE_FILE_IO: { exit: 3, http: 500 },
  CHANGE_LOG_RESET: { exit: 3, http: 500 },
  QUERY_TOO_BROAD: { exit: 2, http: 413 },
};

/** Exit codes per error code (ERROR_TABLE's `exit` column). */
export const EXIT_CODES: Readonly<Record<ErrorCode, number>> = Object.fromEntries(
  Object.entries(ERROR_TABLE).map(([code, outcome]) => [code, outcome.exit]),
) as Record<ErrorCode, number>;

/** The receiver's HTTP status for an error a request met (ERROR_TABLE's `http` column); 500 for anything else. */
export function httpStatusFor(err: unknown): number {
  return err instanceof IndexerError ? ERROR_TABLE[err.code].http : 500;
}

export function exitCodeFor(err: unknown): number {
  return err instanceof IndexerError ? ERROR_TABLE[err.code].exit : 1;
}
