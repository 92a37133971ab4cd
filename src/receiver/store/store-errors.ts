import { DatabaseError } from '../../shared/errors.js';

/**
 * Driver conditions the client can do nothing about but retry later: unreachable or restarting,
 * refusing writes (read-only, disk or table full, a user without write privileges after a
 * misconfiguration), or too busy (lock waits, deadlocks that outlived the store's retries).
 */
const UNAVAILABLE = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR', 'ER_TOO_MANY_USER_CONNECTIONS', 'ER_SERVER_SHUTDOWN', 'ER_ACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR',
  'ER_OPTION_PREVENTS_STATEMENT', 'ER_READ_ONLY_MODE', 'ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION',
  'ER_RECORD_FILE_FULL', 'ER_DISK_FULL', 'ER_OUT_OF_RESOURCES', 'ER_OUTOFMEMORY',
  'ER_TABLEACCESS_DENIED_ERROR', 'ER_COLUMNACCESS_DENIED_ERROR',
  'ER_LOCK_WAIT_TIMEOUT', 'ER_LOCK_DEADLOCK', 'ER_LOCK_TABLE_FULL', 'ER_QUERY_INTERRUPTED', 'ER_STATEMENT_TIMEOUT',
]);

/**
 * The store could not do its work for now (STORE_UNAVAILABLE): nothing was stored, the caller may
 * retry. The driver's error is kept as `cause` (it carries SQL and values: log it with safeError only).
 */
export class StoreUnavailableError extends DatabaseError {
  readonly driverCode: string;

  constructor(driverCode: string, cause: unknown) {
    super('STORE_UNAVAILABLE', 'the receiver database is unavailable', { cause });
    this.driverCode = driverCode;
  }
}

/** A driver error as the store reports it: StoreUnavailableError when retrying later can help, else unchanged. */
export function storeError(err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && UNAVAILABLE.has(code) ? new StoreUnavailableError(code, err) : err;
}

/** `work` with its driver errors mapped by storeError: the store's boundary. */
export function guarded<A extends unknown[], R>(work: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      return await work(...args);
    } catch (err) {
      throw storeError(err);
    }
  };
}

/**
 * A search ran past its time budget (RECEIVER_QUERY_TIME_LIMIT_MS) and was stopped by the database:
 * the query is too broad for the index to answer quickly (a contains-match with nothing selective).
 */
export class QueryTooBroadError extends DatabaseError {
  constructor(cause?: unknown) {
    super('QUERY_TOO_BROAD', 'the search matches too broadly to be answered within its time budget', {
      cause,
      hint: 'narrow it: a date range, a centre, a patient id, or a text without a leading wildcard',
    });
  }
}
