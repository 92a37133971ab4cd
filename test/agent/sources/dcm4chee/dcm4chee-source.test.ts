import mysql from 'mysql2/promise';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Delivery } from '../../../../src/agent/delivery/delivery.js';
import { openPacsPool, type PacsPool } from '../../../../src/agent/sources/dcm4chee/pacs-db.js';
import { runInitialLoad } from '../../../../src/agent/pipeline/initial-load.js';
import { runSyncPass } from '../../../../src/agent/pipeline/sync-pass.js';
import { Dcm4cheeSource } from '../../../../src/agent/sources/dcm4chee/dcm4chee-source.js';
import type { StudyRecord } from '../../../../src/shared/study-record.js';
import { Dcm4cheeWriter } from '../../../helpers/dcm4chee-writer.js';
import type { TestDatabase } from '../../../helpers/mysql.js';
import { pacsdbFlavors } from '../../../helpers/pacsdb.js';
import { createSite, queueCount, silentLog, stateValue } from '../../support/agent-harness.js';

/** Collects what would be sent: the pipeline against real MariaDB, without HTTP. */
function collector(): Delivery & { sent: StudyRecord[][] } {
  const sent: StudyRecord[][] = [];
  return {
    sent,
    async send(records) {
      sent.push([...records]);
      return { stored: records.length, unchanged: 0, stale: 0, rejected: [], skipped: 0 };
    },
    async close() {},
  };
}

describe.each(pacsdbFlavors())('dcm4chee source on the %s schema', (flavor) => {
  let db: TestDatabase;
  let pool: PacsPool;
  let source: Dcm4cheeSource;
  let writer: Dcm4cheeWriter;
  let delivery: ReturnType<typeof collector>;
  const signal = new AbortController().signal;
  const sync = () => runSyncPass({ source, delivery, log: silentLog, signal, readChunk: 100 });
  const all = () => delivery.sent.flat();

  beforeAll(async () => {
    db = await createSite(flavor, 'src');
    const o = db.options;
    const database = { host: o.host!, port: o.port!, socket: null, user: o.user!, password: o.password ?? '', name: db.name };
    pool = await openPacsPool(database);
    source = new Dcm4cheeSource(pool, '000', database);
    writer = new Dcm4cheeWriter(db.conn);
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });
  beforeEach(async () => {
    delivery = collector();
    await sync(); // drain what earlier tests left
    delivery = collector();
  });

  it('follows merge_fk chains to the dominant patient', async () => {
    const a = await writer.createPatient({ patId: 'A-1', name: 'DOMINANT^ONE' });
    const b = await writer.createPatient({ patId: 'B-1', name: 'MIDDLE^TWO' });
    const c = await writer.createPatient({ patId: 'C-1', name: 'PRIOR^THREE' });
    const st = await writer.storeStudy(c);
    await db.conn.query('UPDATE patient SET merge_fk = ? WHERE pk = ?', [b, c]);
    await db.conn.query('UPDATE patient SET merge_fk = ? WHERE pk = ?', [a, b]);
    await sync();
    const rec = all().find((r) => r.study_pk === st)!;
    expect(rec).toMatchObject({ patient_pk: a, patient_id: 'A-1', patient_name: 'DOMINANT^ONE', deleted: false });
  });

  it('stops at a merge cycle instead of looping', async () => {
    const a = await writer.createPatient({ patId: 'CY-A', name: 'CYCLE^A' });
    const b = await writer.createPatient({ patId: 'CY-B', name: 'CYCLE^B' });
    const st = await writer.storeStudy(a);
    await db.conn.query('UPDATE patient SET merge_fk = ? WHERE pk = ?', [b, a]);
    await db.conn.query('UPDATE patient SET merge_fk = ? WHERE pk = ?', [a, b]);
    await sync();
    expect(all().find((r) => r.study_pk === st)?.patient_pk).toBe(b);
  });

  it('decodes UTF-8 bytes stored in latin1 columns and genuine cp1252 alike', async () => {
    const p = await writer.createPatient({ patId: 'ENC', name: 'X' });
    await db.conn.query('UPDATE patient SET pat_name = ? WHERE pk = ?', [Buffer.from('MUÑOZ^JOSÉ', 'utf8'), p]);
    const st = await writer.storeStudy(p);
    await db.conn.query('UPDATE study SET study_desc = ? WHERE pk = ?', [Buffer.from([0x93, 0x54, 0x41, 0x43, 0x94, 0x20, 0xd1]), st]);
    await sync();
    const rec = all().filter((r) => r.study_pk === st).at(-1)!;
    expect(rec.patient_name).toBe('MUÑOZ^JOSÉ');
    expect(rec.study_description).toBe('\u201cTAC\u201d Ñ');
  });

  it('coalesces many changes of a study into one record per chunk', async () => {
    const st = await writer.storeStudy(await writer.createPatient({ patId: 'CO', name: 'CO^AL' }));
    for (let i = 0; i < 3; i++) await writer.addSeries(st, { modality: 'MR', instances: 2 });
    await sync();
    const mine = all().filter((r) => r.study_pk === st);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ study_series: 3, study_instances: 6, modalities: ['MR'] });
  });

  it('a deleted study becomes a tombstone; a re-imported iuid in the same chunk stays live', async () => {
    const p = await writer.createPatient({ patId: 'DEL', name: 'DEL^ETE' });
    const gone = await writer.storeStudy(p, { iuid: '1.2.999.1' });
    const back = await writer.storeStudy(p, { iuid: '1.2.999.2' });
    await sync();
    delivery = collector();
    await writer.deleteStudy(gone);
    await writer.deleteStudy(back);
    const again = await writer.storeStudy(p, { iuid: '1.2.999.2' });
    await sync();
    const recs = all();
    expect(recs.find((r) => r.study_iuid === '1.2.999.1')).toMatchObject({ deleted: true, study_pk: gone });
    expect(recs.filter((r) => r.study_iuid === '1.2.999.2')).toEqual([expect.objectContaining({ deleted: false, study_pk: again })]);
    expect(await queueCount(db.conn)).toBe(0);
  });

  it('versions grow with every chunk and exceed every queue position', async () => {
    const p = await writer.createPatient({ patId: 'VER', name: 'VER^SION' });
    await writer.storeStudy(p);
    await sync();
    await writer.storeStudy(p);
    await sync();
    const [first, second] = delivery.sent;
    expect(second![0]!.source_seq).toBeGreaterThan(first![0]!.source_seq);
    expect(Number(await stateValue(db.conn, 'version_high'))).toBe(second![0]!.source_seq);
    expect(Number(await stateValue(db.conn, 'sync.last_ack_seq'))).toBeLessThanOrEqual(second![0]!.source_seq);
  });

  it('a change committed late with a lower seq is not lost', async () => {
    const p = await writer.createPatient({ patId: 'LATE', name: 'LA^TE' });
    const other = await mysql.createConnection(db.options);
    try {
      await other.beginTransaction();
      await other.query(
        "INSERT INTO study (patient_fk, study_iuid, num_series, num_instances, availability, study_status) VALUES (?, '1.2.777.1', 0, 0, 0, 0)",
        [p],
      );
      await writer.storeStudy(p, { iuid: '1.2.777.2' }); // higher seq, committed first
      await sync();
      expect(all().map((r) => r.study_iuid)).toEqual(['1.2.777.2']);
      await other.commit();
    } finally {
      await other.end();
    }
    await sync();
    expect(all().map((r) => r.study_iuid)).toContain('1.2.777.1');
    expect(await queueCount(db.conn)).toBe(0);
  });

  it('initial reads every study in chunks, checkpointing each, then prunes the queue it covered', async () => {
    const p = await writer.createPatient({ patId: 'INI', name: 'INI^TIAL' });
    for (let i = 0; i < 7; i++) await writer.storeStudy(p);
    expect(await queueCount(db.conn)).toBe(7);
    const [[{ n }]] = (await db.conn.query('SELECT COUNT(*) AS n FROM study')) as unknown as [[{ n: number }]];
    const sink = { interactive: false, stderr: () => undefined, log: silentLog };
    const summary = await runInitialLoad({ source, delivery, log: silentLog, signal, readChunk: 3 }, sink, true);
    expect(summary).toMatchObject({ ok: true, read: Number(n), sent: Number(n) });
    expect(delivery.sent.every((chunk) => chunk.length <= 3)).toBe(true);
    expect(await queueCount(db.conn)).toBe(0);
    const [[{ m }]] = (await db.conn.query('SELECT MAX(pk) AS m FROM study')) as unknown as [[{ m: number }]];
    expect(Number(await stateValue(db.conn, 'initial.last_pk'))).toBe(Number(m));
  });

  it('a row without study_iuid is counted and skipped, never blocking the others', async () => {
    const p = await writer.createPatient({ patId: 'BAD', name: 'BAD^ROW' });
    await writer.storeStudy(p, { iuid: '' });
    const good = await writer.storeStudy(p);
    const summary = await sync();
    expect(summary.invalid.missing_iuid).toBe(1);
    expect(all().map((r) => r.study_pk)).toEqual([good]);
    expect(await queueCount(db.conn)).toBe(0);
  });

  it('a failed delivery acknowledges nothing and records the error', async () => {
    await writer.storeStudy(await writer.createPatient({ patId: 'FAIL', name: 'FA^IL' }));
    const failing: Delivery = { send: async () => Promise.reject(new Error('boom')), close: async () => undefined };
    await expect(runSyncPass({ source, delivery: failing, log: silentLog, signal, readChunk: 100 })).rejects.toThrow('boom');
    expect(await queueCount(db.conn)).toBe(1);
    expect(JSON.parse((await stateValue(db.conn, 'last_error'))!)).toMatchObject({ command: 'sync', message: 'boom' });
  });
});
