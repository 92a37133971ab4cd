import type mysql from 'mysql2/promise';
import { expect } from 'vitest';
import { createSite, queueCount, writeSiteConfig } from '../../agent/support/agent-harness.js';
import type { TestDatabase } from '../../helpers/mysql.js';
import { addCenter, addToken, startReceiver, type Receiver } from '../../helpers/receiver-harness.js';
import type { FaultLedger } from './agent-runs.js';
import { FaultSiteWriter, expectedRecords } from './fault-site.js';
import { startFaultProxy, type FaultProxy } from '../../helpers/fault-proxy.js';
import { PatientDataRegistry } from './patient-data.js';
import { Prng } from './prng.js';
import { compareWithSource, receiverRecords } from './receiver-content.js';

export const FAULT_CENTER = '000';

/** Retries quick enough for a test, many enough to ride out a short fault. */
export const PATIENT_HTTP = { retries: 6, min_backoff_ms: 20, max_backoff_ms: 300, timeout_ms: 1500 };

/**
 * A test bed: the real receiver (in-process, real HTTP, its own database), a dcm4chee site with
 * the capture objects, the fault proxy between them and the site's config folder.
 */
export interface FaultBed {
  receiver: Receiver;
  token: string;
  key: string;
  site: TestDatabase;
  proxy: FaultProxy;
  dir: string;
  rng: Prng;
  ids: PatientDataRegistry;
  writer: FaultSiteWriter;
  close(): Promise<void>;
}

export async function createFaultBed(prefix: string, seed: number, agentConfig: Record<string, unknown> = {}): Promise<FaultBed> {
  const receiver = await startReceiver(`${prefix}_rx`);
  const token = await addToken(receiver.store, 'fault-suite');
  const key = await addCenter(receiver.store, FAULT_CENTER);
  const site = await createSite('fixture', prefix);
  await site.conn.query("SET SESSION sql_mode = ''");
  const proxy = await startFaultProxy(receiver.base);
  const dir = writeSiteConfig(site, { url: proxy.url, key, read_chunk: 40, batch_size: 20, http: PATIENT_HTTP, ...agentConfig }, FAULT_CENTER);
  const rng = new Prng(seed);
  const ids = new PatientDataRegistry(rng);
  return {
    receiver, token, key, site, proxy, dir, rng, ids,
    writer: new FaultSiteWriter(site.conn, rng, ids),
    async close() {
      await proxy.close();
      await site.drop();
      await receiver.close();
    },
  };
}

/**
 * Ends a case: the receiver's content equals the source record by record (tombstones for the
 * deleted studies), counted in the ledger. `conn` reads the source (default: the bed's site).
 */
export async function expectReceiverEqualsSource(
  ledger: FaultLedger, base: string, token: string, writer: FaultSiteWriter, conn: mysql.Connection,
): Promise<void> {
  const expected = await expectedRecords(conn, FAULT_CENTER);
  const result = compareWithSource(expected, writer.deletedIuids, await receiverRecords(base, token, FAULT_CENTER));
  ledger.counts.recordsCompared += result.compared + result.tombstones;
  ledger.counts.recordsLost += result.differences.filter((d) => d.endsWith('missing at the receiver')).length;
  expect(result.differences).toEqual([]);
  expect(result.compared).toBeGreaterThan(0);
}

/** The queue is drained and nothing went to the dead letters. */
export async function expectDrained(conn: mysql.Connection): Promise<void> {
  expect(await queueCount(conn)).toBe(0);
  const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM indexer_dead_letter');
  expect(Number(rows[0]!.n)).toBe(0);
}
