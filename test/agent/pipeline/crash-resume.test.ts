import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dcm4cheeWriter } from '../../helpers/dcm4chee-writer.js';
import { startCentralReceiver, type CentralReceiver } from '../../helpers/central-receiver.js';
import type { TestDatabase } from '../../helpers/mysql.js';
import { CENTER, KEY, createSite, projectLive, queueCount, runCli, sourceStudies, spawnCli, stateValue, waitFor, writeSiteConfig } from '../support/agent-harness.js';

/** SIGKILL of the built CLI in the middle of a pass, then a rerun: nothing lost. */
describe('killed mid-pass (built CLI, fixture schema)', () => {
  let db: TestDatabase;
  let receiver: CentralReceiver;
  let writer: Dcm4cheeWriter;
  let dir: string;
  const STUDIES = 240;

  beforeAll(async () => {
    db = await createSite('fixture', 'crash');
    receiver = await startCentralReceiver('crash_resume', { [CENTER]: KEY });
    writer = new Dcm4cheeWriter(db.conn);
    dir = writeSiteConfig(db, { url: receiver.url, read_chunk: 20, batch_size: 10, max_in_flight: 1 });
    const p = await writer.createPatient({ patId: '3.705.779-7', name: 'PEÑA^MARÍA' });
    for (let i = 0; i < STUDIES; i++) await writer.storeStudy(p, { desc: `S${i}` });
  });
  afterAll(async () => {
    await receiver?.close();
    await db?.drop();
  });

  const expectEqual = async (conn: mysql.Connection) => {
    expect(projectLive((await receiver.held(CENTER)) as never)).toEqual(await sourceStudies(conn));
  };

  it('initial killed mid-way resumes after the last acknowledged chunk', async () => {
    receiver.proxy.latencyMs = 100;
    const { child, done } = spawnCli(['initial'], dir);
    await waitFor(() => receiver.batches() >= 5, 'five batches');
    child.kill('SIGKILL');
    expect((await done).signal).toBe('SIGKILL');
    const lastPk = Number(await stateValue(db.conn, 'initial.last_pk'));
    expect(lastPk).toBeGreaterThan(0);
    expect(await stateValue(db.conn, 'initial.done')).toBe('0');
    const [[max]] = await db.conn.query<mysql.RowDataPacket[]>('SELECT MAX(pk) AS m FROM study');
    expect(lastPk).toBeLessThan(Number(max!.m));
    // A change made while the agent was down, to a study the load had already sent.
    const [[first]] = await db.conn.query<mysql.RowDataPacket[]>('SELECT MIN(pk) AS pk FROM study');
    await writer.updateStudy(Number(first!.pk), { desc: 'CHANGED WHILE DOWN' });
    receiver.proxy.latencyMs = 0;
    const rerun = await runCli(['initial'], dir);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toContain('initial load resuming');
    expect(await stateValue(db.conn, 'initial.done')).toBe('1');
    expect((await runCli(['sync'], dir)).code).toBe(0);
    await expectEqual(db.conn);
    expect(await queueCount(db.conn)).toBe(0);
  });

  it('sync killed mid-way loses nothing: the rerun finishes the queue', async () => {
    await db.conn.query("UPDATE study SET study_desc = CONCAT(study_desc, '-v2'), updated_time = NOW()");
    const queued = await queueCount(db.conn);
    expect(queued).toBe(STUDIES);
    receiver.proxy.latencyMs = 100;
    const batches = receiver.batches();
    const { child, done } = spawnCli(['sync'], dir);
    await waitFor(() => receiver.batches() >= batches + 5, 'five batches');
    child.kill('SIGKILL');
    await done;
    const left = await queueCount(db.conn);
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(queued);
    receiver.proxy.latencyMs = 0;
    const rerun = await runCli(['sync'], dir); // also proves the killed pass's lock was released
    expect(rerun.code, rerun.stderr).toBe(0);
    await expectEqual(db.conn);
    expect(await queueCount(db.conn)).toBe(0);
  });

  it('--restart loads everything again with higher versions', async () => {
    const before = new Map([...(await receiver.held(CENTER))].map(([k, r]) => [k, r.source_seq]));
    const res = await runCli(['initial', '--restart'], dir);
    expect(res.code, res.stderr).toBe(0);
    for (const [iuid, r] of await receiver.held(CENTER)) expect(r.source_seq).toBeGreaterThan(before.get(iuid)!);
    await expectEqual(db.conn);
  });

  it('--restart keeps queued deletions: a study deleted before it still reaches the receiver as a tombstone', async () => {
    const [rows] = await db.conn.query<mysql.RowDataPacket[]>('SELECT pk, study_iuid FROM study ORDER BY pk LIMIT 2');
    const [gone, changed] = rows as [mysql.RowDataPacket, mysql.RowDataPacket];
    await writer.deleteStudy(Number(gone.pk));
    await writer.updateStudy(Number(changed.pk), { desc: 'CORREGIDO' });
    expect((await receiver.held(CENTER)).get(String(gone.study_iuid))?.deleted).toBe(false);
    const res = await runCli(['initial', '--restart'], dir);
    expect(res.code, res.stderr).toBe(0);
    // The walk covered the update; the deletion is not in the walk and stays queued for sync.
    const [queued] = await db.conn.query<mysql.RowDataPacket[]>('SELECT op FROM study_service WHERE seq > 0');
    expect(queued.map((q) => q.op)).toEqual(['D']);
    const sync = await runCli(['sync'], dir);
    expect(sync.code, sync.stderr).toBe(0);
    expect((await receiver.held(CENTER)).get(String(gone.study_iuid))?.deleted).toBe(true);
    expect((await receiver.held(CENTER)).get(String(changed.study_iuid))?.study_description).toBe('CORREGIDO');
    await expectEqual(db.conn);
  });

  it('initial again without --restart says it is done and sends nothing', async () => {
    const requests = receiver.requests();
    const res = await runCli(['initial'], dir);
    expect(res.code).toBe(0);
    expect(res.stderr).toContain('already complete');
    expect(receiver.requests()).toBe(requests);
  });
});
