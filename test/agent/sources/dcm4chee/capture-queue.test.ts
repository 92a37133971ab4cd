import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { installCaptureForTest, takeQueue } from '../../../helpers/capture.js';
import { Dcm4cheeWriter } from '../../../helpers/dcm4chee-writer.js';
import type { TestDatabase } from '../../../helpers/mysql.js';
import { createPacsdb, pacsdbFlavors } from '../../../helpers/pacsdb.js';

/** For each kind of dcm4chee write: exactly the queue entries the triggers must produce. */
describe.each(pacsdbFlavors())('capture triggers on the %s schema', (flavor) => {
  let db: TestDatabase;
  let w: Dcm4cheeWriter;
  const U = (study_pk: number) => ({ study_pk, op: 'U', study_iuid: null });
  const iuidOf = async (pk: number): Promise<string> => {
    const [rows] = await db.conn.query<mysql.RowDataPacket[]>('SELECT study_iuid FROM study WHERE pk = ?', [pk]);
    return String(rows[0]!.study_iuid);
  };

  beforeAll(async () => {
    db = await createPacsdb(flavor, 'capq');
    await installCaptureForTest(db);
    w = new Dcm4cheeWriter(db.conn);
  });
  afterAll(async () => {
    await db?.drop();
  });
  beforeEach(async () => {
    await takeQueue(db.conn);
  });

  it('queues a new study once, as an insert', async () => {
    const pat = await w.createPatient({ patId: '12345678-5', name: 'Muñoz^José' });
    expect(await takeQueue(db.conn)).toEqual([]);
    const st = await w.storeStudy(pat, { desc: 'TAC de cráneo' });
    expect(await takeQueue(db.conn)).toEqual([{ study_pk: st, op: 'I', study_iuid: null }]);
  });

  it('queues one update per derived-field update as series arrive, none for series/instance rows', async () => {
    const st = await w.storeStudy(await w.createPatient({ patId: 'P2', name: 'A^B' }));
    await takeQueue(db.conn);
    await w.addSeries(st, { modality: 'CT', instances: 3 });
    expect(await takeQueue(db.conn)).toEqual([U(st)]);
    await w.addSeries(st, { modality: 'SR', instances: 1 });
    expect(await takeQueue(db.conn)).toEqual([U(st)]);
    // Recomputing without a visible change (dcm4chee does it on every store) queues nothing.
    await w.updateDerivedFields(st);
    expect(await takeQueue(db.conn)).toEqual([]);
  });

  it('queues every study of a renamed or re-identified patient', async () => {
    const pat = await w.createPatient({ patId: '123456785', name: 'Pena^Maria', birthdate: '19700101', sex: 'F' });
    const s1 = await w.storeStudy(pat);
    const s2 = await w.storeStudy(pat);
    const other = await w.storeStudy(await w.createPatient({ patId: 'OTHER', name: 'X^Y' }));
    await takeQueue(db.conn);
    await w.renamePatient(pat, 'Peña^María');
    expect(await takeQueue(db.conn)).toEqual([U(s1), U(s2)]);
    await w.fixPatientId(pat, '12.345.678-5');
    expect(await takeQueue(db.conn)).toEqual([U(s1), U(s2)]);
    await w.fixPatientId(pat, '12.345.678-5', 'HOSPITAL');
    expect(await takeQueue(db.conn)).toEqual([U(s1), U(s2)]);
    await w.updatePatient(pat, { birthdate: '19700102' });
    await w.updatePatient(pat, { sex: 'M' });
    expect(await takeQueue(db.conn)).toEqual([U(s1), U(s2), U(s1), U(s2)]);
    expect(other).toBeGreaterThan(0);
  });

  it('queues nothing for patient columns the record does not carry', async () => {
    const pat = await w.createPatient({ patId: 'P4', name: 'C^D' });
    await w.storeStudy(pat);
    await takeQueue(db.conn);
    await w.updatePatient(pat, { custom1: 'x', attrs: Buffer.from('new dataset') });
    await w.renamePatient(pat, 'C^D'); // same value: only updated_time changes
    expect(await takeQueue(db.conn)).toEqual([]);
  });

  it('merge (link): the moved studies are queued; later changes to the dominant reach them', async () => {
    const dominant = await w.createPatient({ patId: 'D1', name: 'Dominant^A' });
    const prior = await w.createPatient({ patId: 'P1', name: 'Prior^A' });
    const sd = await w.storeStudy(dominant);
    const sp1 = await w.storeStudy(prior);
    const sp2 = await w.storeStudy(prior);
    await takeQueue(db.conn);
    await w.mergePatients(dominant, prior, 'link');
    expect(await takeQueue(db.conn)).toEqual([U(sp1), U(sp2)]);
    await w.renamePatient(dominant, 'Dominant^B');
    expect((await takeQueue(db.conn)).map((e) => e.study_pk).sort((a, b) => a - b)).toEqual([sd, sp1, sp2]);
  });

  it('link merge without re-pointing: the merged patient’s studies are queued via merge_fk', async () => {
    const dominant = await w.createPatient({ patId: 'D2', name: 'Dom^B' });
    const prior = await w.createPatient({ patId: 'P2b', name: 'Pri^B' });
    const sp = await w.storeStudy(prior);
    await takeQueue(db.conn);
    await db.conn.query('UPDATE patient SET merge_fk = ? WHERE pk = ?', [dominant, prior]);
    expect(await takeQueue(db.conn)).toEqual([U(sp)]);
    await w.renamePatient(dominant, 'Dom^C');
    expect(await takeQueue(db.conn)).toEqual([U(sp)]);
  });

  it('merge (delete): the moved studies are queued, the deleted patient queues nothing more', async () => {
    const dominant = await w.createPatient({ patId: 'D3', name: 'Dom^C' });
    const prior = await w.createPatient({ patId: 'P3', name: 'Pri^C' });
    const sp = await w.storeStudy(prior);
    await takeQueue(db.conn);
    await w.mergePatients(dominant, prior, 'delete');
    expect(await takeQueue(db.conn)).toEqual([U(sp)]);
  });

  it('queues a delete with the study iuid; series, instances and trash rows queue nothing', async () => {
    const st = await w.storeStudy(await w.createPatient({ patId: 'P5', name: 'E^F' }));
    await w.addSeries(st, { modality: 'MR', instances: 2 });
    const iuid = await iuidOf(st);
    await takeQueue(db.conn);
    await w.deleteStudy(st);
    expect(await takeQueue(db.conn)).toEqual([{ study_pk: st, op: 'D', study_iuid: iuid }]);
  });

  it('queues a tombstone for the old iuid, then an update, when the Study Instance UID is corrected', async () => {
    const st = await w.storeStudy(await w.createPatient({ patId: 'P5b', name: 'E^G' }));
    const oldIuid = await iuidOf(st);
    await takeQueue(db.conn);
    await db.conn.query('UPDATE study SET study_iuid = ? WHERE pk = ?', [`${oldIuid}.9`, st]);
    expect(await takeQueue(db.conn)).toEqual([{ study_pk: st, op: 'D', study_iuid: oldIuid }, U(st)]);
  });

  it('queues nothing for checked_time-only and study_attrs-only updates', async () => {
    const st = await w.storeStudy(await w.createPatient({ patId: 'P6', name: 'G^H' }));
    await takeQueue(db.conn);
    await w.touchCheckedTime(st, '2031-01-01 00:00:00');
    await w.touchCheckedTime(st);
    await w.setStudyAttrs(st, Buffer.from('rewritten dataset'));
    expect(await takeQueue(db.conn)).toEqual([]);
  });

  it('queues an update for each carried study column, including accents and NULLs', async () => {
    const st = await w.storeStudy(await w.createPatient({ patId: 'P7', name: 'I^J' }), { desc: null, datetime: null });
    await takeQueue(db.conn);
    await w.updateStudy(st, { desc: 'Resonancia de cráneo' });
    await w.updateStudy(st, { accession: 'ACC-1' });
    await w.updateStudy(st, { studyId: '77' });
    await w.updateStudy(st, { refPhysician: 'Núñez^Pedro' });
    await w.updateStudy(st, { datetime: '2024-01-02 03:04:05' });
    await w.updateStudy(st, { datetime: null });
    await w.updateStudy(st, { custom1: 'not carried' });
    expect(await takeQueue(db.conn)).toEqual([U(st), U(st), U(st), U(st), U(st), U(st)]);
  });

  it('gives every change a higher queue position, across kinds', async () => {
    const pat = await w.createPatient({ patId: 'P8', name: 'K^L' });
    const st = await w.storeStudy(pat);
    await w.addSeries(st, { modality: 'CT', instances: 1 });
    await w.renamePatient(pat, 'K^M');
    await w.deleteStudy(st);
    const [rows] = await db.conn.query<mysql.RowDataPacket[]>('SELECT seq, op FROM study_service ORDER BY seq');
    expect(rows.map((r) => r.op)).toEqual(['I', 'U', 'U', 'D']);
    const seqs = rows.map((r) => Number(r.seq));
    expect(new Set(seqs).size).toBe(4);
  });
});
