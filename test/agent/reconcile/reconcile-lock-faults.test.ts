import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandContext } from '../../../src/agent/command-context.js';
import { loadAgentConfig } from '../../../src/agent/config.js';
import { runLockName } from '../../../src/agent/sources/dcm4chee/run-lock.js';
import { openRuntimeWaiting } from '../../../src/agent/reconcile/reconcile-session.js';
import { LockBusyError } from '../../../src/shared/errors.js';
import { Dcm4cheeWriter } from '../../helpers/dcm4chee-writer.js';
import { BATCHES, RECONCILE_READS, startCentralReceiver, type CentralReceiver } from '../../helpers/central-receiver.js';
import type { TestDatabase } from '../../helpers/mysql.js';
import { CENTER, KEY, createSite, runCli, silentLog, spawnCli, stateValue, waitFor, writeSiteConfig } from '../support/agent-harness.js';
import { dropTriggers, expectHeldEqualsSource, reconcileReport, writeDays } from './support/reconcile-site.js';

/** The pass lock shared with sync, and every way a reconcile can fail. */
describe('indexer reconcile: lock and failures (built CLI, real receiver)', () => {
  let db: TestDatabase;
  let receiver: CentralReceiver;
  let dir: string;
  let writer: Dcm4cheeWriter;
  let locker: mysql.Connection;
  const held = async () => (await receiver.held(CENTER)) as unknown as Map<string, Record<string, unknown>>;

  /** Drift on `days` different days, invisible to sync (written without triggers). */
  async function drift(days: number): Promise<void> {
    await dropTriggers(db.conn);
    const p = await writer.createPatient({ patId: 'D1', name: 'DERIVA^X' });
    for (let i = 0; i < days; i += 1) await writer.storeStudy(p, { datetime: `2023-0${1 + (i % 9)}-2${i % 8} 10:00:00` });
    expect((await runCli(['install'], dir)).code).toBe(0);
  }

  beforeAll(async () => {
    db = await createSite('fixture', 'reconcile_lock');
    receiver = await startCentralReceiver('reconcile_lock_faults', { [CENTER]: KEY });
    dir = writeSiteConfig(db, { url: receiver.url });
    writer = new Dcm4cheeWriter(db.conn);
    locker = await mysql.createConnection(db.options);
    await writeDays(writer, db.conn, 30);
    expect((await runCli(['initial'], dir)).code).toBe(0);
  });
  afterAll(async () => {
    await locker?.end();
    await receiver?.close();
    await db?.drop();
  });

  it('waits for a pass holding the lock, then repairs', async () => {
    await drift(2);
    await locker.query('SELECT GET_LOCK(?, 0)', [runLockName(db.name)]);
    const run = spawnCli(['reconcile'], dir);
    let stderr = '';
    run.child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitFor(() => stderr.includes('reconcile waits for it'), 'reconcile waiting for the lock');
    expect(receiver.proxy.count(RECONCILE_READS)).toBe(0);
    await locker.query('SELECT RELEASE_LOCK(?)', [runLockName(db.name)]);
    const res = await run.done;
    expect(res.code, res.stderr).toBe(0);
    expect(reconcileReport(res.stderr)).toMatchObject({ missing: 2 });
    await expectHeldEqualsSource(await held(), db.conn);
  });

  it('gives up after its bounded wait with LOCK_BUSY (exit 4 at the CLI)', async () => {
    await locker.query('SELECT GET_LOCK(?, 0)', [runLockName(db.name)]);
    try {
      const config = loadAgentConfig({ configFile: join(dir, 'config.json'), serverFile: join(dir, 'server.json'), env: {}, overrides: {}, cwd: dir });
      const ctx = { config, log: silentLog, flags: {}, args: [], stdout: () => undefined, stderr: () => undefined, signal: new AbortController().signal, interactive: false } satisfies CommandContext;
      const err = await openRuntimeWaiting(ctx, 300, 50).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LockBusyError);
      expect((err as Error).message).toMatch(/another indexer pass is running .*\(reconcile waited 1 s\)/);
    } finally {
      await locker.query('SELECT RELEASE_LOCK(?)', [runLockName(db.name)]);
    }
  });

  it('a sync started while reconcile repairs exits 4 (lock busy); a dry run takes no lock', async () => {
    await drift(4);
    receiver.proxy.latencyMs = 400;
    try {
      const run = spawnCli(['reconcile'], dir);
      await waitFor(async () => {
        const [rows] = await locker.query<mysql.RowDataPacket[]>('SELECT IS_USED_LOCK(?) AS h', [runLockName(db.name)]);
        return rows[0]!.h !== null && receiver.proxy.count(RECONCILE_READS) > 0;
      }, 'reconcile holding the lock');
      const sync = await runCli(['sync'], dir);
      expect(sync.code).toBe(4);
      expect(sync.stderr).toContain('another indexer pass is running');
      const dry = await runCli(['reconcile', '--dry-run'], dir);
      expect(dry.code, dry.stderr).toBe(0);
      const res = await run.done;
      expect(res.code, res.stderr).toBe(0);
    } finally {
      receiver.proxy.latencyMs = 0;
    }
    await expectHeldEqualsSource(await held(), db.conn);
  });

  it('a repair the receiver cannot take: exit 6, reported as failed in reconcile.last, last_error and status; the next run repairs', async () => {
    await drift(1);
    receiver.proxy.enqueue(BATCHES, ...Array.from({ length: 3 }, () => ({ kind: 'status' as const, status: 503 })));
    const res = await runCli(['reconcile'], dir);
    expect(res.code).toBe(6);
    expect(reconcileReport(res.stderr, 'reconcile failed')).toMatchObject({ ok: false, missing: 1, error: { code: 'RECEIVER_UNAVAILABLE' } });
    const status = JSON.parse((await runCli(['status'], dir)).stdout) as Record<string, Record<string, unknown>>;
    expect(status.last_reconcile).toMatchObject({ ok: false, error: { code: 'RECEIVER_UNAVAILABLE' } });
    expect(status.last_error).toMatchObject({ command: 'reconcile', code: 'RECEIVER_UNAVAILABLE' });
    await expect(expectHeldEqualsSource(await held(), db.conn)).rejects.toThrow();
    expect((await runCli(['reconcile'], dir)).code).toBe(0);
    await expectHeldEqualsSource(await held(), db.conn);
  });

  it('SIGTERM stops it between requests: exit 130, reported as interrupted; the next run completes the repair', async () => {
    await drift(3);
    receiver.proxy.latencyMs = 300;
    try {
      const run = spawnCli(['reconcile'], dir);
      const start = receiver.proxy.count(RECONCILE_READS);
      await waitFor(() => receiver.proxy.count(RECONCILE_READS) >= start + 2, 'reconcile reading differing days');
      run.child.kill('SIGTERM');
      const res = await run.done;
      expect(res.code).toBe(130);
      expect(JSON.parse((await stateValue(db.conn, 'reconcile.last'))!)).toMatchObject({ ok: false, error: { code: 'INTERRUPTED' } });
    } finally {
      receiver.proxy.latencyMs = 0;
    }
    expect((await runCli(['reconcile'], dir)).code).toBe(0);
    await expectHeldEqualsSource(await held(), db.conn);
  });

  it('a record the receiver rejects becomes a dead letter; the others are repaired (exit 0)', async () => {
    await drift(2);
    const [rows] = await db.conn.query<mysql.RowDataPacket[]>("SELECT study_iuid FROM study ORDER BY pk DESC LIMIT 1");
    receiver.proxy.corruptIuids.add(String(rows[0]!.study_iuid));
    const res = await runCli(['reconcile'], dir);
    expect(res.code, res.stderr).toBe(0);
    expect(reconcileReport(res.stderr)).toMatchObject({ missing: 2, rejected: 1, stored: 1 });
    expect(Number(JSON.parse((await runCli(['status'], dir)).stdout).dead_letters)).toBeGreaterThanOrEqual(1);
    receiver.proxy.corruptIuids.clear();
  });

  it('refuses clearly: receiver without reconcile endpoints (exit 6), wrong key (exit 5), legacy protocol (exit 2)', async () => {
    receiver.proxy.enqueue(RECONCILE_READS, { kind: 'status', status: 404 });
    const old = await runCli(['reconcile'], dir);
    expect(old.code).toBe(6);
    expect(old.stderr).toContain('does not offer reconciliation');
    const badKey = await runCli(['reconcile', '--dry-run'], dir, { INDEXER_KEY: 'wrong' });
    expect(badKey.code).toBe(5);
    const last = await stateValue(db.conn, 'reconcile.last');
    expect(last).toContain('RECEIVER_AUTH');
    const legacy = await runCli(['reconcile'], dir, { INDEXER_PROTOCOL: 'legacy' });
    expect(legacy.code).toBe(2);
    expect(await stateValue(db.conn, 'reconcile.last')).toBe(last);
  });
});
