import { IndexerError } from '../../shared/errors.js';
import type { AgentConfig } from '../config.js';
import { isPrivilegeError } from './capture-errors.js';
import { openPacsConnection, toDatabaseError } from './pacs-db.js';

/** A mysql2 error (server or connection), as opposed to the agent's own or a programming error. */
function isDriverError(err: unknown): err is Error & { code: string; sql?: string } {
  if (!(err instanceof Error)) return false;
  const e = err as { code?: unknown; fatal?: unknown; sqlState?: unknown; errno?: unknown };
  return typeof e.code === 'string' && (typeof e.fatal === 'boolean' || e.sqlState !== undefined || e.errno !== undefined);
}

/** Maps a driver error to a DatabaseError; the statement text is dropped (its values may be a record). */
export function mapDatabaseError(err: unknown, db: AgentConfig['database']): unknown {
  if (err instanceof IndexerError || !isDriverError(err)) return err;
  delete err.sql;
  return toDatabaseError(err, db);
}

/** The same, naming the account as GRANT needs it (CURRENT_USER(), asked on a fresh connection). */
export async function mapDatabaseErrorNamingAccount(err: unknown, db: AgentConfig['database']): Promise<unknown> {
  if (!isPrivilegeError(err) || !isDriverError(err)) return mapDatabaseError(err, db);
  delete err.sql;
  return toDatabaseError(err, db, await currentUserOf(db));
}

async function currentUserOf(db: AgentConfig['database']): Promise<string | undefined> {
  try {
    const conn = await openPacsConnection(db);
    try {
      const [rows] = await conn.query('SELECT CURRENT_USER() AS u');
      return String((rows as { u: string }[])[0]?.u ?? '') || undefined;
    } finally {
      await conn.end().catch(() => undefined);
    }
  } catch {
    return undefined;
  }
}

function guardPromise<T>(value: T, db: AgentConfig['database']): T {
  if (!(value instanceof Promise)) return value;
  return value.then(
    (result: unknown) => guardAck(result, db),
    async (err: unknown) => {
      throw await mapDatabaseErrorNamingAccount(err, db);
    },
  ) as T;
}

/** A chunk's ack writes to the database too. */
function guardAck(result: unknown, db: AgentConfig['database']): unknown {
  if (!result || typeof result !== 'object' || typeof (result as { ack?: unknown }).ack !== 'function') return result;
  const chunk = result as { ack: () => Promise<void> };
  const ack = chunk.ack.bind(chunk);
  return Object.assign(chunk, { ack: () => guardPromise(ack(), db) });
}

/**
 * The same source, every async method's driver errors mapped to DatabaseError (exit 3, naming the
 * database) — a server restart or a killed connection mid-pass is a database problem the
 * operator can act on, not an "unexpected failure".
 */
export function guardDatabaseErrors<T extends object>(source: T, db: AgentConfig['database']): T {
  return new Proxy(source, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => guardPromise((value as (...a: unknown[]) => unknown).apply(target, args), db);
    },
  });
}
