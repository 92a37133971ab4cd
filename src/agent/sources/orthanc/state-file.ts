import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DatabaseError } from '../../../shared/errors.js';
import type { ReconcileMark } from '../study-source.js';

/**
 * The Orthanc agent's checkpoints, one small JSON file (the dcm4chee agent keeps them in
 * indexer_state). Written atomically: a temporary file in the same folder, fsync, rename, fsync of
 * the folder, so a crash leaves the old or the new state, never a torn one. Writes are serialised
 * (the initial load reads the next chunk while the previous one is acknowledged).
 */
export interface OrthancState {
  format: 1;
  /** The last acknowledged /changes position: sync resumes after it. */
  since: number;
  /** The last allocated version (source_seq). */
  version_high: number;
  initial: {
    /** The /changes position noted when the initial load started. */
    start_seq: number | null;
    started_at: string | null;
    /** The last acknowledged Orthanc study ID of the walk (IDs are walked in sorted order). */
    last_id: string | null;
    /** Studies acknowledged so far by the walk. */
    walked: number;
    done: boolean;
    total: number | null;
  };
  last_run: unknown;
  last_error: unknown;
  /** Set while changes may be missing at the receiver, until a repairing reconcile (docs/reconcile.md). */
  reconcile_needed: ReconcileMark | null;
}

export function emptyState(): OrthancState {
  return {
    format: 1, since: 0, version_high: 0,
    initial: { start_seq: null, started_at: null, last_id: null, walked: 0, done: false, total: null },
    last_run: null, last_error: null, reconcile_needed: null,
  };
}

export async function readStateFile(path: string): Promise<OrthancState> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
    throw new DatabaseError('STATE_FILE_IO', `cannot read the Orthanc state file ${path}`, { cause: err });
  }
  let parsed: Partial<OrthancState>;
  try {
    parsed = JSON.parse(text) as Partial<OrthancState>;
  } catch (cause) {
    throw new DatabaseError('STATE_FILE_IO', `the Orthanc state file ${path} is not JSON`, {
      cause, hint: 'restore it, or remove it and run `indexer initial --restart`',
    });
  }
  const base = emptyState();
  return { ...base, ...parsed, initial: { ...base.initial, ...parsed.initial }, format: 1 };
}

/** Writes `content` to `path` so that a crash leaves either the old or the new file. */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(content, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  // The rename itself is durable only once the folder is synced.
  try {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // Some filesystems cannot fsync a directory; the rename is still atomic there.
  }
}

/** Appends lines and fsyncs them before returning (the study index and the dead letters). */
export function appendLinesSync(path: string, lines: readonly string[]): void {
  if (lines.length === 0) return;
  const fd = openSync(path, 'a', 0o600);
  try {
    writeSync(fd, lines.map((l) => `${l}\n`).join(''));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The in-memory state and its file; `update` mutates and persists, one write at a time. */
export class StateFile {
  private chain: Promise<void> = Promise.resolve();

  private constructor(readonly path: string, private current: OrthancState) {}

  static async open(path: string): Promise<StateFile> {
    return new StateFile(path, await readStateFile(path));
  }

  get state(): Readonly<OrthancState> {
    return this.current;
  }

  /** Applies `change` at once (later reads see it) and resolves when it is on disk. */
  update(change: (s: OrthancState) => void): Promise<void> {
    change(this.current);
    const snapshot = JSON.stringify(this.current, null, 2);
    const write = this.chain.then(() => writeFileAtomic(this.path, `${snapshot}\n`));
    this.chain = write.catch(() => undefined);
    return write.catch((cause: unknown) => {
      throw new DatabaseError('STATE_FILE_IO', `cannot write the Orthanc state file ${this.path}`, { cause });
    });
  }

  /** Resolves once every write issued so far is done. */
  async flush(): Promise<void> {
    await this.chain;
  }
}
