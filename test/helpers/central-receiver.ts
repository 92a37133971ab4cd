import type { AppOptions } from '../../src/receiver/app.js';
import type { StudyRecord } from '../../src/shared/study-record.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
import { addCenter, addToken, bearer, http, startReceiver, type Receiver } from './receiver-harness.js';

/** Batch POSTs and the other agent-facing routes, as the proxy's counters select them. */
export const BATCHES = { method: 'POST', path: /^\/api\/v2\/centers\/[^/]+\/studies$/ } as const;
export const LEGACY_POSTS = { method: 'POST', path: /^\/api\/v1\/register$/ } as const;
export const RECONCILE_READS = { method: 'GET', path: /^\/api\/v2\/centers\/[^/]+\/reconcile\// } as const;
export const FLOOR_READS = { method: 'GET', path: /^\/api\/v2\/centers\/[^/]+\/source-seq$/ } as const;
export const HEARTBEATS = { method: 'POST', path: /^\/api\/v2\/centers\/[^/]+\/heartbeat$/ } as const;

/** The receiver's own reason for a record the proxy corrupted (`proxy.corruptIuids`). */
export const CORRUPTED_REASON = 'study_series must be an integer or null';

/**
 * The real receiver (in-process, its own MariaDB database) behind the fault proxy: the agent talks
 * to `url` (the proxy), tests read what was stored through the receiver's query API.
 */
export interface CentralReceiver {
  /** The proxy's address: give this to the agent. */
  url: string;
  /** The receiver's own address (no faults, not counted). */
  base: string;
  legacyUrl: string;
  proxy: FaultProxy;
  receiver: Receiver;
  /** Everything held for a centre, tombstones included, by study_iuid. */
  held(center: string): Promise<Map<string, StudyRecord>>;
  /** Requests that reached the proxy, version-floor reads (GET …/source-seq) and heartbeats left out. */
  requests(): number;
  /** Batch POSTs the receiver answered 200. */
  batches(): number;
  /** Record counts of the batches the receiver answered 200, in order. */
  batchSizes(): number[];
  /** Sum of `field` ('stored', 'unchanged', 'stale') over the receiver's batch answers. */
  answered(field: 'stored' | 'unchanged' | 'stale'): number;
  close(): Promise<void>;
}

/** Starts the receiver with one centre per `keys` entry (centre → write key) and a read token. */
export async function startCentralReceiver(prefix: string, keys: Record<string, string>, options: Partial<AppOptions> = {}): Promise<CentralReceiver> {
  const receiver = await startReceiver(prefix, options);
  for (const [center, key] of Object.entries(keys)) await addCenter(receiver.store, center, key);
  const token = await addToken(receiver.store, 'tests');
  const proxy = await startFaultProxy(receiver.base);
  const batchAnswers = () => proxy.exchanges.filter((e) => BATCHES.path.test(e.path) && e.method === 'POST' && e.status === 200);
  return {
    url: proxy.url,
    base: receiver.base,
    legacyUrl: `${proxy.url}/api/v1/register`,
    proxy,
    receiver,
    held: (center) => heldRecords(receiver.base, token, center),
    requests: () => proxy.counts.requests - proxy.count(FLOOR_READS) - proxy.count(HEARTBEATS),
    batches: () => batchAnswers().length,
    batchSizes: () => batchAnswers().map((e) => (JSON.parse(e.request.toString('utf8')) as { records: unknown[] }).records.length),
    answered: (field) => batchAnswers().reduce((n, e) => n + Number((JSON.parse(e.answer) as Record<string, number>)[field] ?? 0), 0),
    async close() {
      await proxy.close();
      await receiver.close();
    },
  };
}

async function heldRecords(base: string, token: string, center: string): Promise<Map<string, StudyRecord>> {
  const out = new Map<string, StudyRecord>();
  let cursor: string | null = null;
  do {
    const q: string = `/api/v2/studies?center=${encodeURIComponent(center)}&include_deleted=true&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await http(base, 'GET', q, { headers: bearer(token) });
    if (res.status !== 200) throw new Error(`receiver query answered ${res.status}: ${res.text.slice(0, 200)}`);
    for (const item of res.json.items as StudyRecord[]) out.set(item.study_iuid, item);
    cursor = res.json.next_cursor as string | null;
  } while (cursor);
  return out;
}
