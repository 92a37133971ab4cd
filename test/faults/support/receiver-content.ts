import { request } from 'undici';
import { project, type ComparableRecord } from './fault-site.js';

/**
 * Everything the receiver holds for a centre, read through its query API (tombstones included),
 * page by page; a study seen twice across pages is reported as a duplicate.
 */
export async function receiverRecords(base: string, token: string, center: string): Promise<{ records: Map<string, Record<string, unknown>>; duplicates: string[] }> {
  const records = new Map<string, Record<string, unknown>>();
  const duplicates: string[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 10_000; page++) {
    const q = `/api/v2/studies?center=${encodeURIComponent(center)}&include_deleted=true&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await request(`${base}${q}`, { headers: { authorization: `Bearer ${token}` } });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`receiver query answered ${res.statusCode}: ${text.slice(0, 200)}`);
    const body = JSON.parse(text) as { items: Record<string, unknown>[]; next_cursor: string | null };
    for (const item of body.items) {
      const iuid = String(item.study_iuid);
      if (records.has(iuid)) duplicates.push(iuid);
      records.set(iuid, item);
    }
    cursor = body.next_cursor;
    if (!cursor) break;
  }
  return { records, duplicates };
}

export interface Comparison {
  /** Live source studies compared field by field. */
  compared: number;
  tombstones: number;
  /** Human-readable differences; empty when the receiver equals the source. */
  differences: string[];
}

/**
 * The receiver's content against the source: every live study with the same fields, a tombstone
 * for every study it holds that the source deleted, nothing else, no duplicates.
 */
export function compareWithSource(
  expected: Map<string, ComparableRecord>, deleted: ReadonlySet<string>, held: { records: Map<string, Record<string, unknown>>; duplicates: string[] },
): Comparison {
  const differences: string[] = held.duplicates.map((iuid) => `${iuid}: appears twice`);
  let tombstones = 0;
  for (const [iuid, want] of expected) {
    const got = held.records.get(iuid);
    if (!got) {
      differences.push(`${iuid}: missing at the receiver`);
      continue;
    }
    const have = project(got);
    for (const [field, value] of Object.entries(want)) {
      if (JSON.stringify(have[field]) !== JSON.stringify(value)) differences.push(`${iuid}: ${field} differs`);
    }
    if (!Number.isSafeInteger(got.source_seq) || (got.source_seq as number) < 0) differences.push(`${iuid}: bad source_seq`);
  }
  for (const [iuid, got] of held.records) {
    if (expected.has(iuid)) continue;
    if (!deleted.has(iuid)) differences.push(`${iuid}: held by the receiver, never in the source`);
    else if (got.deleted !== true) differences.push(`${iuid}: deleted at the source, live at the receiver`);
    else tombstones += 1;
  }
  return { compared: expected.size, tombstones, differences: differences.slice(0, 50) };
}
