import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DatabaseError, LockBusyError } from '../../../shared/errors.js';

/**
 * One pass at a time per state file (the dcm4chee agent's GET_LOCK, for sources kept in files): a lock file
 * created exclusively, holding the owner's pid. A lock left by a process that no longer exists
 * (killed, host crash) is taken over.
 */
export interface StateLock {
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function tryCreate(path: string, pid: number): Promise<boolean> {
  try {
    const fh = await open(path, 'wx', 0o600);
    try {
      await fh.writeFile(`${pid}\n`);
    } finally {
      await fh.close();
    }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

export async function acquireStateLock(stateFile: string, pid: number = process.pid): Promise<StateLock> {
  const path = `${stateFile}.lock`;
  try {
    // The state file's folder is made as the state file's first write would make it.
    await mkdir(dirname(path), { recursive: true });
    return await takeLock(path, pid);
  } catch (err) {
    if (err instanceof LockBusyError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new DatabaseError('STATE_FILE_IO', `cannot create the lock file ${path} (${code})`, {
      hint: "the state file's folder must exist or be creatable, and be writable by the agent's user",
    });
  }
}

async function takeLock(path: string, pid: number): Promise<StateLock> {
  for (let attempt = 0; attempt < 2; attempt++) {
    if (await tryCreate(path, pid)) {
      return { release: () => unlink(path).catch(() => undefined) };
    }
    const owner = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(owner) && owner > 0 && alive(owner)) break;
    await unlink(path).catch(() => undefined);
  }
  throw new LockBusyError(`another pass holds ${path}`);
}
