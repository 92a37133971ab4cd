import { readFile } from 'node:fs/promises';
import { appendLinesSync, writeFileAtomic } from '../file-state/json-state-file.js';

/**
 * Orthanc ID → StudyInstanceUID of every study sent live, so a study that disappears can be sent
 * as a tombstone: once deleted, Orthanc no longer knows its UID (and its SQLite index drops the
 * study's changes with it, so no Deleted change can be read back either). An append-only JSON
 * lines file beside the state file, not inside it: it grows with the archive, and the state file
 * is rewritten on every acknowledgement. A torn last line (crash while appending) is ignored: that
 * chunk was never acknowledged and is read again.
 */
interface IndexLine {
  id: string;
  iuid?: string;
  gone?: boolean;
}

export class StudyIndex {
  private lines = 0;

  private constructor(readonly path: string, private readonly byId: Map<string, string>) {}

  static async open(path: string): Promise<StudyIndex> {
    const byId = new Map<string, string>();
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    let lines = 0;
    for (const raw of text.split('\n')) {
      if (!raw.trim()) continue;
      let line: IndexLine;
      try {
        line = JSON.parse(raw) as IndexLine;
      } catch {
        continue;
      }
      lines += 1;
      if (line.gone) byId.delete(line.id);
      else if (line.iuid) byId.set(line.id, line.iuid);
    }
    const index = new StudyIndex(path, byId);
    index.lines = lines;
    // Removals accumulate as studies are deleted: rewrite once they outweigh the live entries.
    if (lines > 2 * byId.size + 1000) await index.compact();
    return index;
  }

  get size(): number {
    return this.byId.size;
  }

  iuidOf(id: string): string | undefined {
    return this.byId.get(id);
  }

  ids(): IterableIterator<string> {
    return this.byId.keys();
  }

  /** Records the studies about to be sent (before sending: a sent study must be findable). */
  remember(entries: readonly { id: string; iuid: string }[]): void {
    const fresh = entries.filter((e) => this.byId.get(e.id) !== e.iuid);
    appendLinesSync(this.path, fresh.map((e) => JSON.stringify({ id: e.id, iuid: e.iuid })));
    for (const e of fresh) this.byId.set(e.id, e.iuid);
    this.lines += fresh.length;
  }

  /** Forgets studies whose tombstone the receiver acknowledged. */
  forget(ids: readonly string[]): void {
    const known = ids.filter((id) => this.byId.has(id));
    appendLinesSync(this.path, known.map((id) => JSON.stringify({ id, gone: true })));
    for (const id of known) this.byId.delete(id);
    this.lines += known.length;
  }

  private async compact(): Promise<void> {
    const body = [...this.byId].map(([id, iuid]) => `${JSON.stringify({ id, iuid })}\n`).join('');
    await writeFileAtomic(this.path, body);
    this.lines = this.byId.size;
  }
}
