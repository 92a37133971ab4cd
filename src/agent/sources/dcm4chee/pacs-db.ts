import mysql from 'mysql2/promise';
import { DatabaseError } from '../../../shared/errors.js';
import type { AgentConfig } from '../../config.js';
import { isPrivilegeError, runtimePrivilegeError } from './capture-errors.js';

export type PacsPool = mysql.Pool;
export type PacsConnection = mysql.PoolConnection | mysql.Connection;
/** Either: for reads that need no session of their own. */
export type PacsQueryable = PacsPool | PacsConnection;

/**
 * Session settings of every agent connection. READ COMMITTED takes no gap or next-key locks on
 * range reads and deletes, so the agent never blocks the PACS's inserts into study or the queue;
 * a short lock wait makes the agent, not the PACS, give up when rows are busy.
 */
const SESSION_SETUP = [
  'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED',
  'SET SESSION innodb_lock_wait_timeout = 10',
];

export function pacsConnectionOptions(db: AgentConfig['database']): mysql.PoolOptions {
  return {
    ...(db.socket ? { socketPath: db.socket } : { host: db.host, port: db.port }),
    user: db.user,
    password: db.password,
    database: db.name,
    charset: 'utf8mb4',
    dateStrings: true,
    supportBigNumbers: true,
    multipleStatements: false,
    connectTimeout: 10_000,
    enableKeepAlive: true,
  };
}

export function describeTarget(db: AgentConfig['database']): string {
  return `${db.user}@${db.socket ?? `${db.host}:${db.port}`}/${db.name}`;
}

const CAPTURE_TABLES = /\b(study_service|indexer_state|indexer_dead_letter)\b/;

/**
 * Maps a driver error to a DatabaseError naming the target, never the credentials. `account`
 * (CURRENT_USER()) spells the GRANT of a privilege error; without it the configured user at '%'.
 */
export function toDatabaseError(err: unknown, db: AgentConfig['database'], account?: string): DatabaseError {
  const e = err as { code?: string; errno?: number; message?: string };
  const target = describeTarget(db);
  if (isPrivilegeError(err)) return runtimePrivilegeError(err, account ?? `${db.user}@%`, db.name);
  if (e.code === 'ER_NO_SUCH_TABLE' && CAPTURE_TABLES.test(e.message ?? '')) {
    const table = CAPTURE_TABLES.exec(e.message ?? '')![1];
    return new DatabaseError('CAPTURE_MISSING', `capture table ${table} is missing from PACS database ${target}`, {
      cause: err,
      hint: 'run `indexer install` (or have a DBA apply `indexer install --print`), then `indexer reconcile`: changes made meanwhile were not queued',
    });
  }
  switch (e.code) {
    case 'ER_ACCESS_DENIED_ERROR':
      return new DatabaseError('DB_UNREACHABLE', `access denied to PACS database ${target}`, {
        cause: err,
        hint: 'check database.user / database.password (INDEXER_DB_USER, INDEXER_DB_PASSWORD)',
      });
    case 'ER_BAD_DB_ERROR':
      return new DatabaseError('DB_UNREACHABLE', `PACS database ${target} does not exist`, {
        cause: err,
        hint: 'check database.name (INDEXER_DB_NAME)',
      });
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ECONNRESET':
    case 'EPIPE':
    case 'PROTOCOL_CONNECTION_LOST':
      return new DatabaseError('DB_UNREACHABLE', `cannot reach PACS database ${target} (${e.code})`, {
        cause: err,
        hint: 'check database.host / database.port and that MySQL is running',
      });
    default:
      return new DatabaseError('DB_UNREACHABLE', `PACS database ${target}: ${e.code ?? 'error'} ${e.message ?? ''}`.trim(), {
        cause: err,
      });
  }
}

/** A small pool: the agent needs one reader, one writer for checkpoints and the lock holder. */
export function createPacsPool(db: AgentConfig['database'], connectionLimit = 4): PacsPool {
  const pool = mysql.createPool({ ...pacsConnectionOptions(db), connectionLimit, waitForConnections: true });
  pool.on('connection', (conn) => {
    // Callback API: the 'connection' event hands out the core connection.
    for (const sql of SESSION_SETUP) conn.query(sql);
  });
  return pool;
}

/** Opens the pool and proves it works, mapping failures to a clear DatabaseError. */
export async function openPacsPool(db: AgentConfig['database'], connectionLimit = 4): Promise<PacsPool> {
  const pool = createPacsPool(db, connectionLimit);
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw toDatabaseError(err, db);
  }
  return pool;
}

/** One connection with the same session settings, for the lock holder or a long reader. */
export async function openPacsConnection(db: AgentConfig['database']): Promise<mysql.Connection> {
  let conn: mysql.Connection;
  try {
    conn = await mysql.createConnection(pacsConnectionOptions(db));
  } catch (err) {
    throw toDatabaseError(err, db);
  }
  for (const sql of SESSION_SETUP) await conn.query(sql);
  return conn;
}
