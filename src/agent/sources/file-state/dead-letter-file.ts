import { readFile } from 'node:fs/promises';
import type { StudyRecord } from '../../../shared/study-record.js';
import type { DeadLetterEntry } from '../study-source.js';
import { writeFileAtomic } from './json-state-file.js';

/**
 * A file-kept source's dead letters: one JSON line each beside the state file. A dead letter's id
 * is its line number (from 1); only callers holding the state lock rewrite the file, and removal
 * is applied once at the end of a command, so ids stay valid for the whole command.
 */
interface StoredLine {
  at?: string;
  study_iuid?: string;
  source_seq?: number;
  reason?: string;
  record?: StudyRecord;
}

async function readLines(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
  return text.split('\n').filter((l) => l.trim() !== '');
}

function parseLine(line: string): StoredLine {
  try {
    return JSON.parse(line) as StoredLine;
  } catch {
    return { reason: 'unreadable dead-letter line' };
  }
}

function toEntry(id: number, line: StoredLine, withRecord: boolean): DeadLetterEntry {
  return {
    id,
    study_iuid: line.study_iuid ?? null,
    source_seq: Number(line.source_seq ?? 0),
    reason: line.reason ?? '',
    created_at: line.at ?? '',
    ...(withRecord ? { record: line.record ?? null } : {}),
  };
}

export async function listDeadLetterFile(
  path: string, opts: { afterId?: number; limit: number; ids?: readonly number[]; withRecord?: boolean },
): Promise<{ total: number; entries: DeadLetterEntry[] }> {
  const lines = await readLines(path);
  const wanted = opts.ids ? new Set(opts.ids) : null;
  const entries: DeadLetterEntry[] = [];
  for (let i = opts.afterId ?? 0; i < lines.length && entries.length < opts.limit; i += 1) {
    if (wanted && !wanted.has(i + 1)) continue;
    entries.push(toEntry(i + 1, parseLine(lines[i]!), opts.withRecord === true));
  }
  return { total: lines.length, entries };
}

/** Rewrites the file without the given lines (atomically); returns how many went. */
export async function removeDeadLetterLines(path: string, ids: readonly number[] | 'all'): Promise<number> {
  const lines = await readLines(path);
  const gone = ids === 'all' ? null : new Set(ids);
  const kept = gone ? lines.filter((_, i) => !gone.has(i + 1)) : [];
  if (kept.length === lines.length) return 0;
  await writeFileAtomic(path, kept.map((l) => `${l}\n`).join(''));
  return lines.length - kept.length;
}

export async function updateDeadLetterLine(path: string, id: number, reason: string): Promise<void> {
  const lines = await readLines(path);
  const line = lines[id - 1];
  if (line === undefined) return;
  lines[id - 1] = JSON.stringify({ ...parseLine(line), reason });
  await writeFileAtomic(path, lines.map((l) => `${l}\n`).join(''));
}

/**
 * Adds dead letters, one line per study: a study already there gets its line replaced (the latest
 * record, version and reason, keeping its id and first `at`), later duplicates are dropped.
 */
export async function upsertDeadLetterLines(path: string, letters: readonly Required<Omit<StoredLine, 'at'>>[], at: string): Promise<void> {
  const lines = await readLines(path);
  const byIuid = new Map(letters.map((l) => [l.study_iuid, l]));
  const out: string[] = [];
  const seen = new Set<string>();
  for (const line of lines) {
    const old = parseLine(line);
    const iuid = old.study_iuid;
    if (iuid === undefined || !byIuid.has(iuid)) {
      out.push(line);
      continue;
    }
    if (seen.has(iuid)) continue;
    seen.add(iuid);
    out.push(JSON.stringify({ ...byIuid.get(iuid), at: old.at ?? at }));
  }
  for (const [iuid, l] of byIuid) if (!seen.has(iuid)) out.push(JSON.stringify({ at, ...l }));
  await writeFileAtomic(path, out.map((l) => `${l}\n`).join(''));
}

/**
 * Drops the lines of studies whose newer version the receiver acknowledged (docs/agent.md, "Dead
 * letters"); the file is rewritten only when one goes. Returns how many went.
 */
export async function removeSupersededLines(path: string, delivered: readonly { study_iuid: string; source_seq: number }[]): Promise<number> {
  const lines = await readLines(path);
  if (lines.length === 0) return 0;
  const newest = new Map<string, number>();
  for (const r of delivered) newest.set(r.study_iuid, Math.max(newest.get(r.study_iuid) ?? 0, r.source_seq));
  const kept = lines.filter((line) => {
    const l = parseLine(line);
    const v = l.study_iuid === undefined ? undefined : newest.get(l.study_iuid);
    return v === undefined || Number(l.source_seq ?? 0) >= v;
  });
  if (kept.length === lines.length) return 0;
  await writeFileAtomic(path, kept.map((l) => `${l}\n`).join(''));
  return lines.length - kept.length;
}
