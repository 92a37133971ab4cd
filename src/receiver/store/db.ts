import mysql from 'mysql2/promise';
import { DatabaseError } from '../../shared/errors.js';
import { StoreUnavailableError } from './store-errors.js';

export type Pool = mysql.Pool;

/** Each pool's connection options, so a side connection (killQuery) can be opened outside the pool. */
const poolOptions = new WeakMap<Pool, mysql.ConnectionOptions>();

/** A mysql2 pool for a mysql://user:pass@host:port/db URL; dates come back as strings (no time-zone games). */
export function createPool(url: string, connectionLimit = 10): Pool {
  const u = new URL(url);
  const options = {
    host: u.hostname,
    port: Number(u.port || 3306),
    user: decodeURIComponent(u.username || 'root'),
    password: decodeURIComponent(u.password),
    database: decodeURIComponent(u.pathname.replace(/^\//, '')),
    charset: 'utf8mb4',
    dateStrings: true,
    connectionLimit,
    connectTimeout: 10_000,
    enableKeepAlive: true,
    timezone: 'Z',
  } as const;
  const pool = mysql.createPool(options);
  poolOptions.set(pool, { host: options.host, port: options.port, user: options.user, password: options.password, database: options.database, connectTimeout: 5000 });
  // READ COMMITTED for every statement of the receiver: ingest relies on the conditional upsert
  // (no gap or next-key locks on its reads), queries want the latest committed rows. Set once per
  // connection: it is queued before any statement the connection is handed out for.
  // The event hands out the callback-style connection; an error here surfaces on the next query.
  pool.on('connection', (conn) => {
    (conn as unknown as { query(sql: string, cb: (err: unknown) => void): void }).query(
      'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED',
      () => undefined,
    );
  });
  return pool;
}

/**
 * Stops the statement running on connection `threadId` (KILL QUERY, allowed for one's own
 * connections without PROCESS), from a connection of its own: the pool may be full of the very
 * statements being stopped. Best effort: the caller destroys the stopped connection anyway.
 */
export async function killQuery(pool: Pool, threadId: number): Promise<void> {
  const options = poolOptions.get(pool);
  if (!options) return;
  const conn = await mysql.createConnection(options).catch(() => null);
  if (!conn) return;
  try {
    await conn.query('KILL QUERY ?', [threadId]);
  } catch {
    // the statement finished meanwhile, or the server refused: nothing more to stop
  } finally {
    conn.destroy();
  }
}

/** Server answers that mean "reachable, but refused": each named, with what to fix (never the password). */
function refusal(err: unknown, url: URL): DatabaseError | null {
  const e = err as { code?: string };
  const user = decodeURIComponent(url.username || 'root');
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (e.code === 'ER_ACCESS_DENIED_ERROR' || e.code === 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR') {
    return new DatabaseError('DB_PRIVILEGES', `the receiver database refused the login: access denied for user ${user}`, {
      cause: err,
      hint: 'check the user name and password in RECEIVER_DATABASE_URL (percent-encode special characters) and that the user may connect from this host',
    });
  }
  if (e.code === 'ER_DBACCESS_DENIED_ERROR') {
    return new DatabaseError('DB_PRIVILEGES', `access denied for user ${user} to database ${database}`, {
      cause: err,
      hint: `GRANT SELECT, INSERT, UPDATE, DELETE (and CREATE, ALTER, INDEX for migrate) ON \`${database}\`.* to that user`,
    });
  }
  if (e.code === 'ER_BAD_DB_ERROR') {
    return new DatabaseError('DB_MISSING', `the receiver database ${database} does not exist`, {
      cause: err,
      hint: `CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4, then run migrate`,
    });
  }
  return null;
}

/**
 * Fails with DB_PRIVILEGES ("access denied") when the server refuses the login or the database,
 * or DB_UNREACHABLE when it does not answer; no credentials or data in the message.
 */
export async function pingDatabase(pool: Pool, url?: string): Promise<void> {
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    const refused = url ? refusal(err, new URL(url)) : null;
    if (refused) throw refused;
    throw new DatabaseError('DB_UNREACHABLE', 'the receiver database is unreachable', {
      cause: err,
      hint: 'check RECEIVER_DATABASE_URL and that the server is up',
    });
  }
}

/** Runs `work` in one transaction on a connection of its own: committed, or rolled back and rethrown. */
export async function withTransaction<T>(pool: Pool, work: (conn: mysql.PoolConnection) => Promise<T>): Promise<T> {
  const conn = await pool.getConnection();
  try {
    await conn.beginTransaction();
    const result = await work(conn);
    await conn.commit();
    return result;
  } catch (err) {
    await conn.rollback().catch(() => undefined);
    throw err;
  } finally {
    conn.release();
  }
}

/** mysql2 errors carry the SQL and values (patient data): only their codes may be logged. */
export function safeError(err: unknown): Record<string, unknown> {
  if (typeof err !== 'object' || err === null) return { type: typeof err };
  if (err instanceof StoreUnavailableError) return { type: err.name, code: err.code, driverCode: err.driverCode };
  const e = err as { name?: string; code?: unknown; errno?: unknown; sqlState?: unknown; sqlMessage?: unknown; stack?: string };
  if (e.sqlMessage !== undefined || e.sqlState !== undefined) {
    return { type: e.name, code: e.code, errno: e.errno, sqlState: e.sqlState };
  }
  return { type: e.name, code: e.code, stack: e.stack };
}
