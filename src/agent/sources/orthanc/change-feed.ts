import type { OrthancChange, OrthancClient } from './orthanc-client.js';

/** Orthanc caps one /changes answer; a chunk is gathered from several pages. */
const PAGE = 1000;

export interface FeedSlice {
  changes: OrthancChange[];
  /** The position this slice reaches: its last change, or `end` once nothing is left before it. */
  position: number;
  /** Every change up to `end` has been read. */
  exhausted: boolean;
}

/**
 * Up to `limit` changes after `since`, none after `end` (the pass's end, fixed when it started:
 * changes arriving during the pass wait for the next one). Orthanc numbers changes in commit
 * order under one lock, so a change at or below `end` is visible once `end` was read, and the
 * position can safely jump to `end` when the feed holds nothing more below it (the changes of a
 * deleted resource leave holes: Orthanc drops them with the resource).
 */
export async function readFeed(client: OrthancClient, since: number, end: number, limit: number): Promise<FeedSlice> {
  const changes: OrthancChange[] = [];
  let cursor = since;
  while (changes.length < limit && cursor < end) {
    const page = await client.changes(cursor, Math.min(PAGE, limit - changes.length));
    for (const c of page.Changes) {
      if (c.Seq > end) return { changes, position: end, exhausted: true };
      changes.push(c);
      cursor = c.Seq;
    }
    if (page.Changes.length === 0 || page.Done) return { changes, position: end, exhausted: true };
  }
  return { changes, position: cursor, exhausted: cursor >= end };
}

export interface ChangeDecision {
  /** Studies to read again (created, stable, modified), in first-seen order. */
  refresh: string[];
  /** Studies whose last change in the slice is their deletion. */
  gone: string[];
}

const REFRESH = new Set(['StableStudy', 'ModifiedStudy']);

/** One decision per study of the slice: its last relevant change wins. */
export function coalesceChanges(changes: readonly OrthancChange[], newStudy: boolean): ChangeDecision {
  const last = new Map<string, 'refresh' | 'gone'>();
  for (const c of changes) {
    if (c.ResourceType !== 'Study') continue;
    if (c.ChangeType === 'Deleted') last.set(c.ID, 'gone');
    else if (REFRESH.has(c.ChangeType) || (newStudy && c.ChangeType === 'NewStudy')) last.set(c.ID, 'refresh');
  }
  const refresh: string[] = [];
  const gone: string[] = [];
  for (const [id, what] of last) (what === 'gone' ? gone : refresh).push(id);
  return { refresh, gone };
}
