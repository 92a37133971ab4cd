import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Dcm4cheeWriter } from '../../helpers/dcm4chee-writer.js';
import { BATCHES, CORRUPTED_REASON, startCentralReceiver, type CentralReceiver } from '../../helpers/central-receiver.js';
import type { TestDatabase } from '../../helpers/mysql.js';
import { CENTER, KEY, createSite, queueCount, runCli, sourceStudies, stateValue, writeSiteConfig } from '../support/agent-harness.js';

/** Receiver faults against the built CLI: retries, clean failures with the checkpoint intact, resumption. */
describe('delivery faults (built CLI, fixture schema)', () => {
  let db: TestDatabase;
  let receiver: CentralReceiver;
  let writer: Dcm4cheeWriter;

  beforeEach(async () => {
    db = await createSite('fixture', 'faults');
    receiver = await startCentralReceiver('delivery_faults', { [CENTER]: KEY, '001': 'key-001' });
    writer = new Dcm4cheeWriter(db.conn);
  });
  afterEach(async () => {
    await receiver.close();
    await db.drop();
  });

  const seed = async (n: number) => {
    const p = await writer.createPatient({ patId: '1-9', name: 'PEREZ^JOSE' });
    for (let i = 0; i < n; i++) await writer.addSeries(await writer.storeStudy(p), { modality: 'CT', instances: 1 });
  };

  it('receiver down: retries, fails with exit 6 and the queue intact; the next run completes', async () => {
    await seed(5);
    const queued = await queueCount(db.conn);
    const url = receiver.url;
    await receiver.close();
    const down = await runCli(['sync'], writeSiteConfig(db, { url }));
    expect(down.code).toBe(6);
    expect(down.stderr).toMatch(/unavailable after 3 attempts/);
    expect(await queueCount(db.conn)).toBe(queued);
    expect(JSON.parse((await stateValue(db.conn, 'last_error'))!)).toMatchObject({ command: 'sync', code: 'RECEIVER_UNAVAILABLE' });
    receiver = await startCentralReceiver('delivery_faults_up', { [CENTER]: KEY });
    const up = await runCli(['sync'], writeSiteConfig(db, { url: receiver.url }));
    expect(up.code, up.stderr).toBe(0);
    expect((await receiver.held(CENTER)).size).toBe(5);
    expect(await queueCount(db.conn)).toBe(0);
  });

  it('persistent 500s: exit 6 after the bounded retries, nothing acknowledged; then success', async () => {
    await seed(3);
    const dir = writeSiteConfig(db, { url: receiver.url });
    receiver.proxy.enqueue(BATCHES, { kind: 'status', status: 500 }, { kind: 'status', status: 503 }, { kind: 'status', status: 500 });
    const res = await runCli(['sync'], dir);
    expect(res.code).toBe(6);
    expect(receiver.requests()).toBe(3);
    expect((await receiver.held(CENTER)).size).toBe(0);
    expect(await queueCount(db.conn)).toBeGreaterThan(0);
    expect((await runCli(['sync'], dir)).code).toBe(0);
    expect((await receiver.held(CENTER)).size).toBe(3);
  });

  it('429 with Retry-After, a hang and a connection reset are retried within one pass', async () => {
    await seed(3);
    const dir = writeSiteConfig(db, { url: receiver.url, http: { retries: 4, min_backoff_ms: 5, max_backoff_ms: 200, timeout_ms: 500 } });
    receiver.proxy.enqueue(BATCHES, { kind: 'status', status: 429, headers: { 'retry-after': '1' } }, { kind: 'hang' }, { kind: 'close' });
    const res = await runCli(['sync'], dir);
    expect(res.code, res.stderr).toBe(0);
    expect(receiver.proxy.pending).toBe(0);
    expect((await receiver.held(CENTER)).size).toBe(3);
    expect(res.stderr).toContain('receiver post failed');
  });

  it('a slow receiver (below the timeout) is waited for', async () => {
    await seed(2);
    receiver.proxy.latencyMs = 300;
    const res = await runCli(['sync'], writeSiteConfig(db, { url: receiver.url }));
    expect(res.code, res.stderr).toBe(0);
    expect((await receiver.held(CENTER)).size).toBe(2);
  });

  it('401 stops at once with exit 5 and a message about the key', async () => {
    await seed(2);
    const res = await runCli(['sync'], writeSiteConfig(db, { url: receiver.url, key: 'wrong' }));
    expect(res.code).toBe(5);
    // One request in all: the pass's first, the version floor, is refused and nothing follows.
    expect(receiver.proxy.counts.requests).toBe(1);
    expect(res.stderr).toMatch(/refused the centre key \(HTTP 401\)/);
    expect(res.stderr).toMatch(/INDEXER_KEY/);
    expect(await queueCount(db.conn)).toBeGreaterThan(0);
  });

  it('403 (the key of another centre) stops at once with exit 5', async () => {
    await seed(1);
    const res = await runCli(['sync'], writeSiteConfig(db, { url: receiver.url, key: 'key-001' }));
    expect(res.code).toBe(5);
    // One request in all: the pass's first, the version floor, is refused and nothing follows.
    expect(receiver.proxy.counts.requests).toBe(1);
    expect(res.stderr).toMatch(/another centre/);
  });

  it('rejected records go to indexer_dead_letter, the others are stored, status counts them', async () => {
    await seed(4);
    const iuids = [...(await sourceStudies(db.conn)).keys()];
    receiver.proxy.corruptIuids.add(iuids[1]!);
    const dir = writeSiteConfig(db, { url: receiver.url });
    const res = await runCli(['sync'], dir);
    expect(res.code, res.stderr).toBe(0);
    expect((await receiver.held(CENTER)).size).toBe(3);
    expect(await queueCount(db.conn)).toBe(0);
    const [rows] = await db.conn.query('SELECT CAST(study_iuid AS CHAR) AS iuid, reason, record FROM indexer_dead_letter');
    expect(rows).toEqual([expect.objectContaining({ iuid: iuids[1], reason: CORRUPTED_REASON })]);
    const status = JSON.parse((await runCli(['status'], dir)).stdout) as { dead_letters: number; last_run: { rejected: number } };
    expect(status.dead_letters).toBe(1);
    expect(status.last_run.rejected).toBe(1);
  });

  it('a second pass while one holds the lock exits 4 with the lock message', async () => {
    await seed(1);
    await db.conn.query('SELECT GET_LOCK(?, 0)', [`pacs_indexer.${db.name}`]);
    try {
      const res = await runCli(['sync'], writeSiteConfig(db, { url: receiver.url }));
      expect(res.code).toBe(4);
      expect(res.stderr).toMatch(/another indexer pass is running/);
      expect(receiver.requests()).toBe(0);
    } finally {
      await db.conn.query('SELECT RELEASE_LOCK(?)', [`pacs_indexer.${db.name}`]);
    }
  });

  it('without the capture objects a pass fails clearly (exit 3)', async () => {
    await db.conn.query('DROP TABLE study_service');
    const res = await runCli(['sync'], writeSiteConfig(db, { url: receiver.url }));
    expect(res.code).toBe(3);
    expect(res.stderr).toMatch(/indexer install/);
  });
});
