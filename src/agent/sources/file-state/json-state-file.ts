import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DatabaseError } from '../../../shared/errors.js';

/**
 * A source's checkpoints kept in one small JSON file (sources without a database of their own).
 * Written atomically: a temporary file in the same folder, fsync, rename, fsync of the folder, so a
 * crash leaves the old or the new state, never a torn one. Writes are serialised (the initial load
 * reads the next chunk while the previous one is acknowledged).
 */
export interface StateShape<S> {
  /** Names the file in errors, e.g. "Orthanc state file". */
  label: string;
  empty(): S;
  /** The file's content completed with the defaults of keys it lacks (an older format). */
  complete(parsed: Partial<S>, empty: S): S;
  /** What makes a parsed file unusable (a wrong type where a checkpoint should be), or null. */
  problem?(parsed: Partial<S>): string | null;
}

export async function readJsonState<S>(path: string, shape: StateShape<S>): Promise<S> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return shape.empty();
    throw new DatabaseError('STATE_FILE_IO', `cannot read the ${shape.label} ${path}`, { cause: err });
  }
  let parsed: Partial<S>;
  try {
    parsed = JSON.parse(text) as Partial<S>;
  } catch {
    // Not the parser's message: it quotes the file's bytes.
    throw new DatabaseError('STATE_FILE_IO', `the ${shape.label} ${path} is not JSON`, {
      hint: 'restore it, or remove it and run `indexer initial --restart`',
    });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new DatabaseError('STATE_FILE_IO', `the ${shape.label} ${path} is not a JSON object`, {
      hint: 'restore it, or remove it and run `indexer initial --restart`',
    });
  }
  const problem = shape.problem?.(parsed);
  if (problem) {
    throw new DatabaseError('STATE_FILE_IO', `the ${shape.label} ${path} is not one this agent wrote: ${problem}`, {
      hint: 'restore it, or remove it and run `indexer initial --restart`',
    });
  }
  return shape.complete(parsed, shape.empty());
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

/** Appends lines and fsyncs them before returning (a study index, dead letters). */
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
export class JsonStateFile<S> {
  private chain: Promise<void> = Promise.resolve();

  private constructor(readonly path: string, private readonly label: string, private current: S) {}

  static async open<S>(path: string, shape: StateShape<S>): Promise<JsonStateFile<S>> {
    return new JsonStateFile(path, shape.label, await readJsonState(path, shape));
  }

  get state(): Readonly<S> {
    return this.current;
  }

  /** Applies `change` at once (later reads see it) and resolves when it is on disk. */
  update(change: (s: S) => void): Promise<void> {
    change(this.current);
    const snapshot = JSON.stringify(this.current, null, 2);
    const write = this.chain.then(() => writeFileAtomic(this.path, `${snapshot}\n`));
    this.chain = write.catch(() => undefined);
    return write.catch((cause: unknown) => {
      throw new DatabaseError('STATE_FILE_IO', `cannot write the ${this.label} ${this.path}`, { cause });
    });
  }

  /** Resolves once every write issued so far is done. */
  async flush(): Promise<void> {
    await this.chain;
  }
}
