import type { RowDataPacket } from 'mysql2/promise';
import { DatabaseError, LockBusyError } from '../../../shared/errors.js';
import type { AgentConfig } from '../../config.js';
import { openPacsConnection } from './pacs-db.js';

export interface RunLock {
  readonly name: string;
  /**
   * Aborts when the lock holder's connection dies (server restart, KILL CONNECTION): the server
   * has dropped the lock, so another pass may start; this one must stop acknowledging.
   */
  readonly lost: AbortSignal;
  release(): Promise<void>;
}

export function runLockName(dbName: string): string {
  // MySQL 5.7 caps lock names at 64 characters.
  return `pacs_indexer.${dbName}`.slice(0, 64);
}

/**
 * One pass per PACS database, across hosts: a named server lock held by a dedicated connection
 * for the whole pass. The server releases it when that connection dies, so a killed agent
 * never leaves a stale lock behind.
 */
export async function acquireRunLock(db: AgentConfig['database']): Promise<RunLock> {
  const name = runLockName(db.name);
  const conn = await openPacsConnection(db);
  try {
    const [rows] = await conn.query<RowDataPacket[]>('SELECT GET_LOCK(?, 0) AS got, IS_USED_LOCK(?) AS holder', [name, name]);
    if (Number(rows[0]?.got) !== 1) {
      const holder = rows[0]?.holder;
      throw new LockBusyError(
        `another indexer pass is running on PACS database ${db.name} (lock ${name}${holder ? ` held by connection ${holder}` : ''}); try again when it finishes`,
      );
    }
  } catch (err) {
    await conn.end().catch(() => undefined);
    throw err;
  }
  let released = false;
  const lost = new AbortController();
  const onLost = () => {
    if (released || lost.signal.aborted) return;
    lost.abort(new DatabaseError('DB_UNREACHABLE', `lost the pass lock ${name} on PACS database ${db.name}: its connection was closed`, {
      hint: 'the pass stopped; what it acknowledged is kept: run it again',
    }));
  };
  // Without an 'error' listener, the death of this idle connection would crash the process.
  conn.on('error', onLost);
  conn.on('end', onLost);
  return {
    name,
    lost: lost.signal,
    async release() {
      if (released) return;
      released = true;
      try {
        await conn.query('SELECT RELEASE_LOCK(?)', [name]);
      } finally {
        await conn.end().catch(() => undefined);
      }
    },
  };
}
