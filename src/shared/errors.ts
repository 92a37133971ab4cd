/**
 * The few error classes of the project. Each has a stable `code` that scripts and tests rely on;
 * the entry points map them to exit codes (agent) or HTTP statuses (receiver).
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
  | 'INTERRUPTED';

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

/** Exit codes of the agent CLI, one per error family; 0 is success, 1 an unexpected failure. */
export const EXIT_CODES: Readonly<Record<ErrorCode, number>> = {
  CONFIG_INVALID: 2,
  INVALID_INPUT: 2,
  DB_UNREACHABLE: 3,
  DB_PRIVILEGES: 3,
  CAPTURE_CONFLICT: 3,
  CAPTURE_MISSING: 3,
  CAPTURE_UNHEALTHY: 3,
  QUEUE_NOT_EMPTY: 3,
  SCHEMA_TOO_NEW: 3,
  LOCK_BUSY: 4,
  RECEIVER_AUTH: 5,
  RECEIVER_UNAVAILABLE: 6,
  RECEIVER_PROTOCOL: 6,
  VERSIONS_BEHIND: 6,
  INTERRUPTED: 130,
};

export function exitCodeFor(err: unknown): number {
  return err instanceof IndexerError ? EXIT_CODES[err.code] : 1;
}
