import mysql from 'mysql2/promise';
import { DatabaseError } from '../../shared/errors.js';

export type Pool = mysql.Pool;

/** A mysql2 pool for a mysql://user:pass@host:port/db URL; dates come back as strings (no time-zone games). */
export function createPool(url: string, connectionLimit = 10): Pool {
  const u = new URL(url);
  const pool = mysql.createPool({
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
  });
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

/** Fails with DB_UNREACHABLE (no credentials or data in the message) when the server does not answer. */
export async function pingDatabase(pool: Pool): Promise<void> {
  try {
    await pool.query('SELECT 1');
  } catch (err) {
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
  const e = err as { name?: string; code?: unknown; errno?: unknown; sqlState?: unknown; sqlMessage?: unknown; stack?: string };
  if (e.sqlMessage !== undefined || e.sqlState !== undefined) {
    return { type: e.name, code: e.code, errno: e.errno, sqlState: e.sqlState };
  }
  return { type: e.name, code: e.code, stack: e.stack };
}
