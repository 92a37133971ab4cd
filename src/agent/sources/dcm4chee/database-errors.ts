import { IndexerError } from '../../../shared/errors.js';
import type { AgentConfig } from '../../config.js';
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

/**
 * Runs one piece of the source's database work, its driver errors mapped to DatabaseError (exit 3,
 * naming the database; a privilege error names its GRANT): a server restart or a killed connection
 * mid-pass is a database problem the operator can act on, not an "unexpected failure". Every
 * public method of the dcm4chee source goes through it, so the mapping is at the source boundary.
 */
export async function withDatabaseErrors<T>(db: AgentConfig['database'], work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw await mapDatabaseErrorNamingAccount(err, db);
  }
}
