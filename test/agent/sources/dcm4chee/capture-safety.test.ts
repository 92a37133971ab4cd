import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { afterEach, describe, expect, it } from 'vitest';
import { toCaptureError } from '../../../../src/agent/sources/dcm4chee/capture-errors.js';
import { inspectCapture, installCapture, installSql, uninstallSql } from '../../../../src/agent/sources/dcm4chee/capture-objects.js';
import { installCaptureForTest, silentLog, takeQueue } from '../../../helpers/capture.js';
import { Dcm4cheeWriter } from '../../../helpers/dcm4chee-writer.js';
import type { TestDatabase } from '../../../helpers/mysql.js';
import { createPacsdb, pacsdbFlavors } from '../../../helpers/pacsdb.js';

/** The capture objects must never make a PACS write fail, and must say what a DBA has to do. */
describe.each(pacsdbFlavors())('capture safety on the %s schema', (flavor) => {
  let db: TestDatabase | undefined;
  const extra: Array<() => Promise<unknown>> = [];
  const fresh = async (): Promise<TestDatabase> => {
    db = await createPacsdb(flavor, 'caps');
    return db;
  };
  afterEach(async () => {
    for (const undo of extra.splice(0)) await undo().catch(() => undefined);
    await db?.drop();
    db = undefined;
  });
  const count = async (d: TestDatabase, sql: string): Promise<number> => {
    const [rows] = await d.conn.query<mysql.RowDataPacket[]>(sql);
    return Number(rows[0]!.n);
  };

  it('dcm4chee writes still succeed after the queue table is dropped under live triggers', async () => {
    const d = await fresh();
    await installCaptureForTest(d);
    await d.conn.query('DROP TABLE study_service');
    const w = new Dcm4cheeWriter(d.conn);
    const a = await w.createPatient({ patId: '1', name: 'Muñoz^Ana' });
    const b = await w.createPatient({ patId: '2', name: 'Peña^Luis' });
    const st = await w.storeStudy(a);
    await w.addSeries(st, { modality: 'CT', instances: 2 });
    const other = await w.storeStudy(b);
    await w.renamePatient(a, 'Muñoz^Ana María');
    await w.mergePatients(a, b, 'link');
    await w.touchCheckedTime(st);
    await w.deleteStudy(other);
    expect(await count(d, 'SELECT COUNT(*) n FROM study')).toBe(1);
    expect(await count(d, `SELECT num_instances n FROM study WHERE pk = ${st}`)).toBe(2);
    expect(await inspectCapture(d.conn, d.name)).toMatchObject({ queue: 'missing', installed: false });
  });

  it('the agent’s own access (READ COMMITTED, delete by seq) never blocks a PACS insert', async () => {
    const d = await fresh();
    await installCaptureForTest(d);
    const w = new Dcm4cheeWriter(d.conn);
    const pat = await w.createPatient({ patId: '3', name: 'A^B' });
    await w.storeStudy(pat);
    await w.storeStudy(pat);
    const agent = await mysql.createConnection(d.options);
    extra.push(() => agent.end());
    await agent.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
    await agent.beginTransaction();
    const [rows] = await agent.query<mysql.RowDataPacket[]>('SELECT seq FROM study_service WHERE seq > 0 ORDER BY seq FOR UPDATE');
    await agent.query('DELETE FROM study_service WHERE seq IN (?)', [rows.map((r) => r.seq)]);
    // While the agent's transaction is open, the PACS stores a study: it must not wait for it.
    await d.conn.query('SET SESSION innodb_lock_wait_timeout = 1');
    const st = await w.storeStudy(pat);
    await agent.commit();
    expect(await takeQueue(d.conn)).toEqual([{ study_pk: st, op: 'I', study_iuid: null }]);
  });

  it('tells the DBA the exact GRANTs when privileges are missing, and those GRANTs suffice', async () => {
    const d = await fresh();
    const user = `idx_${randomBytes(3).toString('hex')}`;
    await d.conn.query(`CREATE USER '${user}'@'%' IDENTIFIED BY 'pw'; GRANT SELECT ON \`${d.name}\`.* TO '${user}'@'%'`);
    extra.push(() => d.conn.query(`DROP USER '${user}'@'%'`));
    const limited = await mysql.createConnection({ ...d.options, user, password: 'pw', multipleStatements: false });
    extra.push(() => limited.end());
    const err = await installCapture(limited, d.name, silentLog).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DB_PRIVILEGES' });
    // Refused before anything changed, naming each missing privilege and the statement needing it.
    expect((err as Error).message).toContain(`TRIGGER on \`${d.name}\`.\`study\` (needed by DROP TRIGGER / CREATE TRIGGER indexer_study_ai`);
    expect((err as Error).message).toContain('nothing was changed');
    expect(await inspectCapture(d.conn, d.name)).toMatchObject({ queue: 'missing', stateTable: false, deadLetterTable: false, presentTriggers: [] });
    const hint = (err as { hint: string }).hint;
    expect(hint).toContain(`GRANT TRIGGER ON \`${d.name}\`.\`study\` TO '${user}'@'%';`);
    for (const grant of hint.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('GRANT'))) await d.conn.query(grant);
    await limited.changeUser({ user, password: 'pw', database: d.name }); // re-read the grants
    const { after } = await installCapture(limited, d.name, silentLog);
    expect(after.current).toBe(true);
    const w = new Dcm4cheeWriter(d.conn);
    const st = await w.storeStudy(await w.createPatient({ patId: '4', name: 'C^D' }));
    expect(await takeQueue(d.conn)).toEqual([{ study_pk: st, op: 'I', study_iuid: null }]);
  });

  it('the --print SQL applied with the mariadb client creates working objects, and uninstall.sql removes them', async () => {
    const d = await fresh();
    const o = d.options;
    const client = (sql: string): string =>
      execFileSync('mariadb', ['-h', String(o.host), '-P', String(o.port), '-u', String(o.user), ...(o.password ? [`-p${o.password}`] : []), d.name], { input: sql, encoding: 'utf8' });
    client(installSql());
    client(installSql());
    expect(await inspectCapture(d.conn, d.name)).toMatchObject({ current: true });
    const w = new Dcm4cheeWriter(d.conn);
    const st = await w.storeStudy(await w.createPatient({ patId: '5', name: 'E^F' }));
    await w.touchCheckedTime(st, '2030-01-01 00:00:00');
    expect(await takeQueue(d.conn)).toEqual([{ study_pk: st, op: 'I', study_iuid: null }]);
    client(uninstallSql());
    expect(await inspectCapture(d.conn, d.name)).toMatchObject({ queue: 'missing', stateTable: false, presentTriggers: [] });
  });

  it('the --print SQL stops with an error on objects from a newer agent', async () => {
    const d = await fresh();
    await installCaptureForTest(d);
    await d.conn.query("UPDATE indexer_state SET value = '2' WHERE name = 'schema_version'");
    const o = d.options;
    expect(() =>
      execFileSync('mariadb', ['-h', String(o.host), '-P', String(o.port), '-u', String(o.user), ...(o.password ? [`-p${o.password}`] : []), d.name], { input: installSql(), stdio: 'pipe' }),
    ).toThrow(/indexer_schema_is_newer_than_this_script/);
  });
});

describe('capture error mapping', () => {
  const ctx = { currentUser: 'indexer@10.0.%', database: 'pacsdb', action: 'install' as const };

  it('binary logging (1419) says to set log_bin_trust_function_creators', () => {
    const err = toCaptureError(Object.assign(new Error('x'), { errno: 1419, code: 'ER_BINLOG_CREATE_ROUTINE_NEED_SUPER' }), ctx);
    expect(err.code).toBe('DB_PRIVILEGES');
    expect(err.hint).toContain('SET GLOBAL log_bin_trust_function_creators = 1;');
  });

  it.each([1142, 1044, 1227])('missing privileges (%i) list the GRANTs for the actual account and database', (errno) => {
    const err = toCaptureError(Object.assign(new Error('x'), { errno }), ctx);
    expect(err.code).toBe('DB_PRIVILEGES');
    expect(err.hint).toContain("GRANT SELECT, TRIGGER ON `pacsdb`.`study` TO 'indexer'@'10.0.%';");
    expect(err.hint).toContain("ON `pacsdb`.`study_service` TO 'indexer'@'10.0.%';");
  });

  it('a metadata-lock wait gives up with LOCK_BUSY rather than stall the PACS', () => {
    expect(toCaptureError(Object.assign(new Error('x'), { errno: 1205 }), ctx).code).toBe('LOCK_BUSY');
  });
});
