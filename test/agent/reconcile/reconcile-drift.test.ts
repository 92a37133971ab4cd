import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentHash, hashDigest } from '../../../src/shared/content-hash.js';
import { Dcm4cheeWriter } from '../../helpers/dcm4chee-writer.js';
import { startCentralReceiver, type CentralReceiver } from '../../helpers/central-receiver.js';
import type { TestDatabase } from '../../helpers/mysql.js';
import { CENTER, KEY, createSite, queueCount, runCli, stateValue, writeSiteConfig } from '../support/agent-harness.js';
import { dropTriggers, expectHeldEqualsSource, reconcileReport, writeDays } from './support/reconcile-site.js';

/**
 * The drift no trigger can see, each case followed by `indexer reconcile` (built CLI, real
 * MariaDB, the real receiver's reconcile endpoints): afterwards the receiver equals the source
 * record by record.
 */
describe('indexer reconcile repairs drift (built CLI, real receiver)', () => {
  let db: TestDatabase;
  let receiver: CentralReceiver;
  let dir: string;
  let writer: Dcm4cheeWriter;

  const held = async () => (await receiver.held(CENTER)) as unknown as Map<string, Record<string, unknown>>;
  const studyPks = async (): Promise<number[]> => {
    const [rows] = await db.conn.query<mysql.RowDataPacket[]>('SELECT pk FROM study ORDER BY pk');
    return rows.map((r) => Number(r.pk));
  };
  async function reconcileAndCheck(): Promise<Record<string, unknown>> {
    const res = await runCli(['reconcile'], dir);
    expect(res.code, res.stderr).toBe(0);
    await expectHeldEqualsSource(await held(), db.conn);
    return reconcileReport(res.stderr);
  }

  beforeAll(async () => {
    db = await createSite('fixture', 'reconcile');
    await db.conn.query("SET SESSION sql_mode = ''");
    receiver = await startCentralReceiver('reconcile_drift', { [CENTER]: KEY });
    dir = writeSiteConfig(db, { url: receiver.url });
    writer = new Dcm4cheeWriter(db.conn);
    await writeDays(writer, db.conn, 60);
    const res = await runCli(['initial'], dir);
    expect(res.code, res.stderr).toBe(0);
    await expectHeldEqualsSource(await held(), db.conn);
  });
  afterAll(async () => {
    await receiver?.close();
    await db?.drop();
  });

  it('with nothing drifted, compares every day, finds no difference and sends nothing', async () => {
    const batches = receiver.batches();
    const report = await reconcileAndCheck();
    expect(receiver.batches()).toBe(batches);
    expect(report).toMatchObject({ ok: true, days_differing: 0, missing: 0, different: 0, extra: 0, resent: 0, tombstones: 0 });
    expect(report.days_compared).toBeGreaterThan(5);
    expect(report.source_studies).toBe(report.receiver_studies);
  });

  it('triggers dropped: writes made meanwhile are invisible to sync; --dry-run reports them and changes nothing; reconcile repairs them', async () => {
    await dropTriggers(db.conn);
    const pks = await studyPks();
    const p = await writer.createPatient({ patId: '22.333.444-5', name: 'PEÑA^NUEVA' });
    for (let i = 0; i < 3; i += 1) await writer.addSeries(await writer.storeStudy(p, { datetime: `2025-02-0${i + 1} 08:00:00` }), { modality: 'MR', instances: 5 });
    await writer.updateStudy(pks[0]!, { desc: 'CORREGIDO' });
    await writer.updateStudy(pks[1]!, { datetime: '2019-12-31 23:59:59' });
    await writer.deleteStudy(pks[2]!);
    expect((await runCli(['install'], dir)).code).toBe(0);
    expect((await runCli(['sync'], dir)).code).toBe(0);
    await expect(expectHeldEqualsSource(await held(), db.conn)).rejects.toThrow();

    const before = JSON.stringify([...(await held())]);
    const dry = await runCli(['reconcile', '--dry-run'], dir);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.stringify([...(await held())])).toBe(before);
    expect(reconcileReport(dry.stderr, 'reconcile dry run finished')).toMatchObject({
      dry_run: true, missing: 4, different: 1, extra: 1, moved: 1, resent: 0, tombstones: 0,
    });

    const report = await reconcileAndCheck();
    expect(report).toMatchObject({ dry_run: false, missing: 4, different: 1, extra: 1, moved: 1, resent: 5, tombstones: 1, stale: 0 });
    const again = await reconcileAndCheck();
    expect(again).toMatchObject({ days_differing: 0, resent: 0, tombstones: 0 });
  });

  it('queue truncated by hand: the lost changes are re-sent', async () => {
    const pks = await studyPks();
    await writer.updateStudy(pks[3]!, { desc: 'TRUNCADA' });
    await writer.renamePatient((await writer.createPatient({ patId: 'X1', name: 'A^B' })), 'C^D');
    await writer.deleteStudy(pks[4]!);
    await writer.addSeries(await writer.storeStudy(1, { datetime: null }), { modality: 'CT', instances: 2 });
    expect(await queueCount(db.conn)).toBeGreaterThan(0);
    await db.conn.query('TRUNCATE TABLE study_service');
    // sync reports the reset (exit 3, "run `indexer reconcile`"); it cannot re-send what was lost.
    expect((await runCli(['sync'], dir)).code).toBe(3);
    await expect(expectHeldEqualsSource(await held(), db.conn)).rejects.toThrow();
    const report = await reconcileAndCheck();
    expect(report).toMatchObject({ missing: 1, different: 1, extra: 1 });
  });

  it('rows changed while the trigger was failing (queue table dropped, written, reinstalled)', async () => {
    const pks = await studyPks();
    await db.conn.query('DROP TABLE study_service');
    await writer.updateStudy(pks[5]!, { desc: 'SIN COLA', datetime: '0000-00-00 00:00:00' });
    await writer.renamePatient(1, 'MUÑOZ^RENOMBRADO');
    await writer.deleteStudy(pks[6]!);
    expect((await runCli(['install'], dir)).code).toBe(0);
    // The recreated queue lacks the generation marker: sync reports the reset (exit 3) until reconcile.
    expect((await runCli(['sync'], dir)).code).toBe(3);
    await expect(expectHeldEqualsSource(await held(), db.conn)).rejects.toThrow();
    const report = await reconcileAndCheck();
    expect(Number(report.different)).toBeGreaterThanOrEqual(1);
    expect(report).toMatchObject({ extra: 1 });
  });

  it('receiver restored from an older backup: lost studies, older versions and resurrected deletions are repaired', async () => {
    const records = [...(await receiver.held(CENTER)).entries()];
    const live = records.filter(([, r]) => !r.deleted);
    const dead = records.filter(([, r]) => r.deleted);
    expect(dead.length).toBeGreaterThan(0);
    // The restore, written into the receiver's tables as a backup would have left them.
    const central = receiver.receiver.db.conn;
    const rows = 'SELECT s.id FROM studies s JOIN centers c ON c.id = s.center_id WHERE c.code = ? AND s.study_iuid IN (?)';
    const [lost] = await central.query<mysql.RowDataPacket[]>(rows, [CENTER, [live[0]![0], live[1]![0]]]);
    await central.query('DELETE FROM study_modalities WHERE study_id IN (?)', [lost.map((r) => r.id)]);
    await central.query('DELETE FROM studies WHERE id IN (?)', [lost.map((r) => r.id)]);
    const old = { ...live[2]![1], study_description: 'VERSIÓN ANTIGUA', study_series: 1, source_seq: 1 };
    const oldHash = contentHash(old);
    const [[older]] = await central.query<mysql.RowDataPacket[]>(rows, [CENTER, [live[2]![0]]]);
    await central.query('UPDATE studies SET study_description = ?, study_series = 1, source_seq = 1, content_hash = ?, digest = ? WHERE id = ?',
      [old.study_description, oldHash, hashDigest(oldHash).toString(), older!.id]);
    // A study deleted at the source, alive again at the receiver (its tombstone came after the backup).
    const [deadKey] = dead[0]!;
    const [[resurrected]] = await central.query<mysql.RowDataPacket[]>(rows, [CENTER, [deadKey]]);
    await central.query("UPDATE studies SET deleted = 0, study_datetime = '2024-02-12 03:15:00', sort_at = '2024-02-12 03:15:00', content_hash = ?, digest = ?, source_seq = 2 WHERE id = ?",
      ['f'.repeat(32), hashDigest('f'.repeat(32)).toString(), resurrected!.id]);
    await expect(expectHeldEqualsSource(await held(), db.conn)).rejects.toThrow();
    const report = await reconcileAndCheck();
    expect(report).toMatchObject({ missing: 2, different: 1, extra: 1, stale: 0 });
  });

  it('source restored from an older backup (older version_high, studies gone, others new): re-sent above the receiver versions', async () => {
    await dropTriggers(db.conn);
    const pks = await studyPks();
    await writer.deleteStudy(pks[7]!);
    await writer.deleteStudy(pks[8]!);
    await writer.addSeries(await writer.storeStudy(1, { datetime: '2024-01-11 01:15:00' }), { modality: 'US', instances: 1 });
    await db.conn.query("UPDATE indexer_state SET value = '1' WHERE name IN ('version_high', 'sync.last_ack_seq')");
    await db.conn.query('TRUNCATE TABLE study_service');
    expect((await runCli(['install'], dir)).code).toBe(0);
    const report = await reconcileAndCheck();
    expect(report).toMatchObject({ missing: 1, extra: 2, stale: 0, rejected: 0 });
    expect(Number(await stateValue(db.conn, 'version_high'))).toBeGreaterThan(1);
  });

  it('status shows the last reconcile result', async () => {
    await reconcileAndCheck();
    const res = await runCli(['status'], dir);
    expect(res.code).toBe(0);
    const status = JSON.parse(res.stdout) as { last_reconcile: Record<string, unknown> };
    expect(status.last_reconcile).toMatchObject({ command: 'reconcile', ok: true, dry_run: false, days_differing: 0 });
    expect(JSON.parse((await stateValue(db.conn, 'reconcile.last'))!)).toEqual(status.last_reconcile);
  });
});
