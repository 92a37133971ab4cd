import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dcm4cheeWriter } from '../../../helpers/dcm4chee-writer.js';
import { writeMix } from '../../../helpers/dcm4chee-write-mix.js';
import type { TestDatabase } from '../../../helpers/mysql.js';
import { createPacsdb, pacsdbFlavors } from '../../../helpers/pacsdb.js';

type Row = mysql.RowDataPacket & Record<string, unknown>;

describe.each(pacsdbFlavors())('test fixtures: dcm4chee writer on the %s schema', (flavor) => {
  let db: TestDatabase;
  let w: Dcm4cheeWriter;
  const one = async (sql: string, params: unknown[] = []): Promise<Row> => {
    const [rows] = await db.conn.query<Row[]>(sql, params);
    return rows[0]!;
  };

  beforeAll(async () => {
    db = await createPacsdb(flavor, 'writer');
    w = new Dcm4cheeWriter(db.conn);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('builds latin1 tables with latin1_bin VARCHAR BINARY columns', async () => {
    const t = await one('SELECT TABLE_COLLATION c FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [db.name, 'study']);
    expect(t.c).toBe('latin1_swedish_ci');
    const c = await one(
      'SELECT COLLATION_NAME c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND COLUMN_NAME = ?',
      [db.name, 'patient', 'pat_name'],
    );
    expect(c.c).toBe('latin1_bin');
  });

  it('stores a bare study, then derived fields as series arrive', async () => {
    const pat = await w.createPatient({ patId: '12.345.678-5', name: 'Muñoz^José', birthdate: '19800229', sex: 'M' });
    const st = await w.storeStudy(pat, { desc: 'TAC de cráneo', accession: 'A1' });
    expect(await one('SELECT num_series, num_instances, availability, mods_in_study FROM study WHERE pk = ?', [st])).toMatchObject({
      num_series: 0, num_instances: 0, availability: 0, mods_in_study: null,
    });
    await w.addSeries(st, { modality: 'SR', instances: 1, cuid: '1.2.840.10008.5.1.4.1.1.88.11' });
    await w.addSeries(st, { modality: 'CT', instances: 3 });
    const row = await one('SELECT num_series, num_instances, mods_in_study, cuids_in_study, retrieve_aets FROM study WHERE pk = ?', [st]);
    expect(row).toMatchObject({ num_series: 2, num_instances: 4, mods_in_study: 'CT\\SR', retrieve_aets: 'DCM4CHEE' });
    expect(String(row.cuids_in_study).split('\\').sort()).toEqual(['1.2.840.10008.5.1.4.1.1.2', '1.2.840.10008.5.1.4.1.1.88.11']);
  });

  it('stores accented names as latin1 bytes and reads them back as UTF-8', async () => {
    const pat = await w.createPatient({ patId: 'X1', name: 'Peña^Ñuñoa' });
    const row = await one('SELECT pat_name, HEX(pat_name) h FROM patient WHERE pk = ?', [pat]);
    expect(row.pat_name).toBe('PEÑA^ÑUÑOA');
    expect(row.h).toBe(Buffer.from('PEÑA^ÑUÑOA', 'latin1').toString('hex').toUpperCase());
  });

  it('corrects, merges (both modes) and deletes like dcm4chee', async () => {
    const a = await w.createPatient({ patId: '1', name: 'A^A' });
    const b = await w.createPatient({ patId: '2', name: 'B^B' });
    const c = await w.createPatient({ patId: '3', name: 'C^C' });
    const sb = await w.storeStudy(b);
    const sc = await w.storeStudy(c);
    await w.fixPatientId(a, '11', 'HOSP');
    expect(await one('SELECT pat_id, pat_id_issuer FROM patient WHERE pk = ?', [a])).toMatchObject({ pat_id: '11', pat_id_issuer: 'HOSP' });
    await w.mergePatients(a, b, 'link');
    expect(await one('SELECT merge_fk FROM patient WHERE pk = ?', [b])).toMatchObject({ merge_fk: a });
    await w.mergePatients(a, c, 'delete');
    expect(await one('SELECT COUNT(*) n FROM patient WHERE pk = ?', [c])).toMatchObject({ n: 0 });
    expect(await one('SELECT COUNT(*) n FROM study WHERE patient_fk = ? AND pk IN (?, ?)', [a, sb, sc])).toMatchObject({ n: 2 });

    await w.addSeries(sb, { modality: 'MR', instances: 2 });
    const iuid = (await one('SELECT study_iuid FROM study WHERE pk = ?', [sb])).study_iuid;
    await w.deleteStudy(sb);
    expect(await one('SELECT COUNT(*) n FROM study WHERE pk = ?', [sb])).toMatchObject({ n: 0 });
    expect(await one('SELECT COUNT(*) n FROM priv_study WHERE study_iuid = ?', [iuid])).toMatchObject({ n: 1 });
    expect(await one('SELECT COUNT(*) n FROM priv_instance i JOIN priv_series s ON s.pk = i.series_fk JOIN priv_study t ON t.pk = s.study_fk WHERE t.study_iuid = ?', [iuid])).toMatchObject({ n: 2 });
  });

  it('runs the benchmark write mix', async () => {
    const counts = await writeMix(w, 30, 2);
    expect(counts).toMatchObject({ studies: 30, series: 60, deletes: 1, merges: 1, patientUpdates: 3 });
  });
});
