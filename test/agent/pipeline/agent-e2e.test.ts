import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dcm4cheeWriter } from '../../helpers/dcm4chee-writer.js';
import { writeMix } from '../../helpers/dcm4chee-write-mix.js';
import { startCentralReceiver, type CentralReceiver } from '../../helpers/central-receiver.js';
import type { TestDatabase } from '../../helpers/mysql.js';
import { pacsdbFlavors } from '../../helpers/pacsdb.js';
import { CENTER, KEY, createSite, projectLive, queueCount, runCli, sourceStudies, stateValue, writeSiteConfig } from '../support/agent-harness.js';

/** Every live source study is at the receiver as it is now; every other iuid there is a tombstone. */
async function expectReceiverEqualsSource(receiver: CentralReceiver, conn: mysql.Connection): Promise<void> {
  const source = await sourceStudies(conn);
  const held = await receiver.held(CENTER);
  expect(projectLive(held as never)).toEqual(source);
  for (const [iuid, r] of held) if (!source.has(iuid)) expect(r.deleted, iuid).toBe(true);
}

describe.each(pacsdbFlavors())('install + initial + writes + sync on the %s schema (built CLI)', (flavor) => {
  let db: TestDatabase;
  let receiver: CentralReceiver;
  let dir: string;
  let writer: Dcm4cheeWriter;

  beforeAll(async () => {
    db = await createSite(flavor, 'e2e');
    await db.conn.query("SET SESSION sql_mode = ''");
    receiver = await startCentralReceiver('e2e_central', { [CENTER]: KEY });
    dir = writeSiteConfig(db, { url: receiver.url });
    writer = new Dcm4cheeWriter(db.conn);
  });
  afterAll(async () => {
    await receiver?.close();
    await db?.drop();
  });

  it('initial sends every study once (not patients without studies); only deletions stay queued', async () => {
    await writeMix(writer, 60);
    await writer.createPatient({ patId: 'NOSTUDY', name: 'SOLO^PACIENTE' });
    const res = await runCli(['initial'], dir);
    expect(res.stderr).toContain('initial pass finished');
    expect(res.code).toBe(0);
    await expectReceiverEqualsSource(receiver, db.conn);
    expect([...(await receiver.held(CENTER)).values()].every((r) => !r.deleted)).toBe(true);
    // The walk covers every change queued before it, except deletions: it cannot see a study that
    // is gone, and a receiver may hold it from an earlier load; the next sync sends the tombstones.
    const [ops] = await db.conn.query<mysql.RowDataPacket[]>('SELECT DISTINCT op FROM study_service WHERE seq > 0');
    expect(ops.map((o) => o.op)).toEqual(['D']);
    expect(await stateValue(db.conn, 'initial.done')).toBe('1');
  });

  it('sync sends final counts, renames, merges, deletions as tombstones, Muñoz intact, zero dates as null', async () => {
    await writeMix(writer, 60);
    const p = await writer.createPatient({ patId: '12.345.678-5', name: 'MUÑOZ^JOSÉ', birthdate: '19800231' });
    const st = await writer.storeStudy(p, { datetime: '0000-00-00 00:00:00', desc: 'ECOGRAFÍA' });
    await writer.addSeries(st, { modality: 'US', instances: 3 });
    await writer.addSeries(st, { modality: 'SR', instances: 1 });
    const res = await runCli(['sync'], dir);
    expect(res.code, res.stderr).toBe(0);
    await expectReceiverEqualsSource(receiver, db.conn);
    const [[row]] = await db.conn.query<mysql.RowDataPacket[]>('SELECT study_iuid FROM study WHERE pk = ?', [st]);
    const rec = (await receiver.held(CENTER)).get(String(row!.study_iuid))!;
    expect(rec).toMatchObject({
      patient_name: 'MUÑOZ^JOSÉ', patient_id: '12.345.678-5', patient_birthdate: null, study_datetime: null,
      study_description: 'ECOGRAFÍA', study_modality: 'SR\\US', modalities: ['SR', 'US'], study_series: 2, study_instances: 4,
    });
    expect([...(await receiver.held(CENTER)).values()].some((r) => r.deleted)).toBe(true);
    expect(await queueCount(db.conn)).toBe(0);
    const summary = JSON.parse((await stateValue(db.conn, 'last_run'))!) as Record<string, unknown>;
    expect(summary).toMatchObject({ command: 'sync', ok: true, invalid: { invalid_study_datetime: 1, invalid_birthdate: 1 } });
  });

  it('an idle sync sends nothing and status reports the positions as JSON', async () => {
    const before = receiver.batches();
    expect((await runCli(['sync'], dir)).code).toBe(0);
    expect(receiver.batches()).toBe(before);
    const status = await runCli(['status'], dir);
    expect(status.code).toBe(0);
    const s = JSON.parse(status.stdout) as Record<string, unknown>;
    expect(s).toMatchObject({ center: CENTER, queue_backlog: 0, dead_letters: 0, initial: { done: true } });
    expect(Number(s.last_ack_seq)).toBeGreaterThan(0);
    expect(s.last_run).toMatchObject({ command: 'sync', ok: true, read: 0 });
  });
});
