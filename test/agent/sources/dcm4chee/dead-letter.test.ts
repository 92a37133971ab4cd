import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDeadLetters } from '../../../../src/agent/sources/dcm4chee/dead-letter.js';
import type { StudyRecord } from '../../../../src/shared/study-record.js';
import { Dcm4cheeWriter } from '../../../helpers/dcm4chee-writer.js';
import { startCentralReceiver, type CentralReceiver } from '../../../helpers/central-receiver.js';
import type { TestDatabase } from '../../../helpers/mysql.js';
import { CENTER, KEY, createSite, runCli, writeSiteConfig } from '../../support/agent-harness.js';

interface Row { id: number; study_iuid: string; source_seq: number; reason: string; record: string; created_at: string }

/**
 * A study the receiver keeps rejecting is one dead letter, not one more per `initial --restart`,
 * per reconcile, per night: its row carries the latest record, version and reason, and keeps its
 * id and when it was first rejected.
 */
describe('dead letters: one row per study', () => {
  let db: TestDatabase;
  let receiver: CentralReceiver;
  let dir: string;
  let poison: string;

  const rows = async (): Promise<Row[]> => {
    const [r] = await db.conn.query<mysql.RowDataPacket[]>(
      "SELECT id, CAST(study_iuid AS CHAR) AS study_iuid, source_seq, reason, record, DATE_FORMAT(created_at, '%Y-%m-%d %H:%i:%s') AS created_at FROM indexer_dead_letter ORDER BY id",
    );
    return r.map((x) => ({ ...(x as Row), id: Number(x.id), source_seq: Number(x.source_seq) }));
  };

  beforeAll(async () => {
    db = await createSite('fixture', 'deadletter');
    const writer = new Dcm4cheeWriter(db.conn);
    receiver = await startCentralReceiver('dead_letter', { [CENTER]: KEY });
    dir = writeSiteConfig(db, { url: receiver.url });
    const patient = await writer.createPatient({ patId: '7-7', name: 'VENENO^UNO' });
    const pk = await writer.storeStudy(patient, { desc: 'POISON' });
    await writer.storeStudy(patient, { desc: 'SANA' });
    const [[r]] = await db.conn.query<mysql.RowDataPacket[]>('SELECT study_iuid FROM study WHERE pk = ?', [pk]);
    poison = String(r!.study_iuid);
    receiver.proxy.corruptIuids.add(poison);
  });
  afterAll(async () => {
    await receiver?.close();
    await db?.drop();
  });

  it('initial, initial --restart and reconcile each reject the study again: still one row, with the latest version', async () => {
    expect((await runCli(['initial'], dir)).code).toBe(0);
    const first = await rows();
    expect(first).toHaveLength(1);
    expect((await runCli(['initial', '--restart'], dir)).code).toBe(0);
    const res = await runCli(['reconcile'], dir);
    expect(res.code, res.stderr).toBe(0);
    const after = await rows();
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ id: first[0]!.id, study_iuid: poison, created_at: first[0]!.created_at });
    expect(after[0]!.source_seq).toBeGreaterThan(first[0]!.source_seq);
    expect((JSON.parse(after[0]!.record) as StudyRecord).source_seq).toBe(after[0]!.source_seq);
  });

  it('duplicates left by an earlier agent fold into the oldest row, which takes the latest reason', async () => {
    const [only] = await rows();
    await db.conn.query(
      'INSERT INTO indexer_dead_letter (study_pk, study_iuid, source_seq, reason, record, created_at) SELECT study_pk, study_iuid, source_seq, reason, record, NOW() FROM indexer_dead_letter',
    );
    expect(await rows()).toHaveLength(2);
    const record = { ...(JSON.parse(only!.record) as StudyRecord), source_seq: only!.source_seq + 100 };
    await writeDeadLetters(db.conn, [{ record, reason: 'patient_id too long' }, { record: { ...record, study_iuid: '1.2.3.other' }, reason: 'x' }]);
    const after = await rows();
    expect(after.map((r) => [r.id, r.study_iuid, r.source_seq, r.reason])).toEqual([
      [only!.id, poison, only!.source_seq + 100, 'patient_id too long'],
      [expect.any(Number), '1.2.3.other', only!.source_seq + 100, 'x'],
    ]);
  });
});
