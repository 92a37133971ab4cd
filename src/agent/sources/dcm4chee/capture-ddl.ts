import type { Logger } from '../../../shared/logger.js';
import { toCaptureError } from './capture-errors.js';
import type { PacsConnection } from './pacs-db.js';
import { runSqlScript, type StatementRetry } from './sql-script.js';

/**
 * DROP/CREATE TRIGGER on study and patient need an exclusive metadata lock, which waits for every
 * open PACS transaction on the table; while it waits, every new PACS statement on that table
 * queues behind it. So one attempt waits at most this long (seconds; MySQL's minimum)…
 */
export const DDL_LOCK_WAIT_SECONDS = 1;
/** …and gives up; after a pause, in which the queued PACS statements run, it tries again. */
export const DDL_ATTEMPTS = 5;
export const DDL_PAUSE_MS = 1000;
/** ER_LOCK_WAIT_TIMEOUT: also what a metadata-lock wait past lock_wait_timeout raises. */
const LOCK_WAIT_TIMEOUT = 1205;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function lockRetry(log: Logger, action: string): StatementRetry {
  return async (err, attempt, statement) => {
    if ((err as { errno?: number }).errno !== LOCK_WAIT_TIMEOUT || attempt >= DDL_ATTEMPTS) return false;
    log.warn({ action, statement, attempt, of: DDL_ATTEMPTS, pause_ms: DDL_PAUSE_MS }, 'PACS table busy: letting its statements through, then trying again');
    await sleep(DDL_PAUSE_MS);
    return true;
  };
}

/**
 * Runs install.sql or uninstall.sql as `who`: a PACS write on study or patient waits at most
 * DDL_LOCK_WAIT_SECONDS behind one attempt, never the whole install (docs/capture.md).
 */
export async function runCaptureScript(
  conn: PacsConnection, dbName: string, script: string, action: 'install' | 'uninstall', who: string, log: Logger,
): Promise<void> {
  try {
    await conn.query(`USE \`${dbName.replace(/`/g, '``')}\``);
    await conn.query('SET SESSION lock_wait_timeout = ?', [DDL_LOCK_WAIT_SECONDS]);
    await runSqlScript(conn, script, lockRetry(log, action));
  } catch (err) {
    throw toCaptureError(err, {
      currentUser: who, database: dbName, action,
      lockWait: `${DDL_ATTEMPTS} attempts of ${DDL_LOCK_WAIT_SECONDS} s, ${DDL_PAUSE_MS / 1000} s apart`,
    });
  }
}
