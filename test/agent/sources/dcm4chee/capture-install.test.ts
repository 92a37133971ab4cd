import type mysql from 'mysql2/promise';
import { afterEach, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION, inspectCapture, installCapture, uninstallCapture } from '../../../../src/agent/sources/dcm4chee/capture-objects.js';
import { queueEntries, silentLog, takeQueue } from '../../../helpers/capture.js';
import { Dcm4cheeWriter } from '../../../helpers/dcm4chee-writer.js';
import type { TestDatabase } from '../../../helpers/mysql.js';
import { createPacsdb, pacsdbFlavors } from '../../../helpers/pacsdb.js';

describe.each(pacsdbFlavors())('install / uninstall on the %s schema', (flavor) => {
  let db: TestDatabase | undefined;
  const fresh = async (): Promise<TestDatabase> => {
    db = await createPacsdb(flavor, 'capi');
    return db;
  };
  afterEach(async () => {
    await db?.drop();
    db = undefined;
  });
  const triggerNames = async (d: TestDatabase): Promise<string[]> => {
    const [rows] = await d.conn.query<mysql.RowDataPacket[]>(
      'SELECT TRIGGER_NAME n FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? ORDER BY TRIGGER_NAME', [d.name]);
    return rows.map((r) => String(r.n));
  };

  it('installs every object on a bare pacsdb and reports it current', async () => {
    const d = await fresh();
    const before = await inspectCapture(d.conn, d.name);
    expect(before).toMatchObject({ queue: 'missing', stateTable: false, installed: false, current: false, schemaVersion: null });
    const { after } = await installCapture(d.conn, d.name, silentLog);
    expect(after).toMatchObject({ queue: 'new', stateTable: true, deadLetterTable: true, installed: true, current: true, schemaVersion: SCHEMA_VERSION, missingTriggers: [], conflicts: [] });
    expect(await triggerNames(d)).toEqual(['indexer_patient_au', 'indexer_study_ad', 'indexer_study_ai', 'indexer_study_au']);
  });

  it('is idempotent and keeps queued changes and checkpoints', async () => {
    const d = await fresh();
    await installCapture(d.conn, d.name, silentLog);
    const w = new Dcm4cheeWriter(d.conn);
    const st = await w.storeStudy(await w.createPatient({ patId: '1', name: 'A^B' }));
    await d.conn.query("INSERT INTO indexer_state (name, value) VALUES ('sync.last_ack_seq', '41')");
    const { before, after } = await installCapture(d.conn, d.name, silentLog);
    expect(before.current).toBe(true);
    expect(after.current).toBe(true);
    expect((await queueEntries(d.conn)).map((e) => [e.study_pk, e.op])).toEqual([[st, 'I']]);
    const [state] = await d.conn.query<mysql.RowDataPacket[]>("SELECT value FROM indexer_state WHERE name = 'sync.last_ack_seq'");
    expect(state[0]!.value).toBe('41');
    expect(await triggerNames(d)).toHaveLength(4);
  });

  it('upgrades an older schema in place: missing columns added, trigger bodies replaced, rows kept', async () => {
    const d = await fresh();
    await installCapture(d.conn, d.name, silentLog);
    const w = new Dcm4cheeWriter(d.conn);
    const st = await w.storeStudy(await w.createPatient({ patId: '2', name: 'C^D' }));
    // A pre-release install: no iuid/queued_at columns, an unfiltered update trigger, version 0.
    await d.conn.query(`DROP TRIGGER indexer_study_ad; DROP TRIGGER indexer_study_au; DROP TRIGGER indexer_study_ai;
      ALTER TABLE study_service DROP COLUMN queued_at, DROP COLUMN study_iuid;
      CREATE TRIGGER indexer_study_au AFTER UPDATE ON study FOR EACH ROW INSERT INTO study_service (study_pk, op) VALUES (NEW.pk, 'U');
      UPDATE indexer_state SET value = '0' WHERE name = 'schema_version'`);
    expect(await inspectCapture(d.conn, d.name)).toMatchObject({ queue: 'outdated', schemaVersion: 0, current: false });
    const { after } = await installCapture(d.conn, d.name, silentLog);
    expect(after).toMatchObject({ queue: 'new', schemaVersion: SCHEMA_VERSION, current: true });
    expect(await takeQueue(d.conn)).toEqual([{ study_pk: st, op: 'I', study_iuid: null }]);
    await w.touchCheckedTime(st, '2030-01-01 00:00:00');
    expect(await takeQueue(d.conn)).toEqual([]);
  });

  it('refuses to downgrade objects installed by a newer agent, changing nothing', async () => {
    const d = await fresh();
    await installCapture(d.conn, d.name, silentLog);
    await d.conn.query("UPDATE indexer_state SET value = '99' WHERE name = 'schema_version'; DROP TRIGGER indexer_study_ai");
    await expect(installCapture(d.conn, d.name, silentLog)).rejects.toMatchObject({ code: 'SCHEMA_TOO_NEW' });
    expect(await triggerNames(d)).not.toContain('indexer_study_ai');
  });

  it('replaces the legacy indexer, keeping the studies still queued there as updates', async () => {
    const d = await fresh();
    // The legacy extras/add_indexer.sql (its body names pacsdb; here the test database).
    await d.conn.query(`CREATE TABLE IF NOT EXISTS study_service (study_pk INT, PRIMARY KEY (study_pk));
      CREATE TRIGGER indexer_process AFTER INSERT ON study FOR EACH ROW BEGIN insert into \`${d.name}\`.study_service values (NEW.pk); END`);
    const w = new Dcm4cheeWriter(d.conn);
    const pat = await w.createPatient({ patId: '3', name: 'Legacy^Site' });
    const s1 = await w.storeStudy(pat);
    const s2 = await w.storeStudy(pat);
    expect(await inspectCapture(d.conn, d.name)).toMatchObject({ queue: 'legacy', legacyTrigger: true, conflicts: [] });
    const result = await installCapture(d.conn, d.name, silentLog);
    expect(result.legacyRequeued).toBe(2);
    expect(result.after).toMatchObject({ queue: 'new', legacyTrigger: false, current: true });
    expect(await takeQueue(d.conn)).toEqual([
      { study_pk: s1, op: 'U', study_iuid: null },
      { study_pk: s2, op: 'U', study_iuid: null },
    ]);
    const s3 = await w.storeStudy(pat);
    expect(await takeQueue(d.conn)).toEqual([{ study_pk: s3, op: 'I', study_iuid: null }]);
    expect(await triggerNames(d)).not.toContain('indexer_process');
  });

  it('refuses, naming it, when a foreign trigger holds a slot it needs, and never drops it', async () => {
    const d = await fresh();
    await d.conn.query(`CREATE TABLE audit_log (study_pk BIGINT);
      CREATE TRIGGER site_audit_ai AFTER INSERT ON study FOR EACH ROW INSERT INTO audit_log VALUES (NEW.pk)`);
    const err = await installCapture(d.conn, d.name, silentLog).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CAPTURE_CONFLICT' });
    expect((err as Error).message).toContain('site_audit_ai (AFTER INSERT on study)');
    expect(await triggerNames(d)).toEqual(['site_audit_ai']);
    expect(await inspectCapture(d.conn, d.name)).toMatchObject({ queue: 'missing', stateTable: false });
  });

  it('reports a foreign trigger in another slot and keeps it working', async () => {
    const d = await fresh();
    await d.conn.query(`CREATE TABLE audit_log (patient_pk BIGINT);
      CREATE TRIGGER site_patient_bu BEFORE UPDATE ON patient FOR EACH ROW INSERT INTO audit_log VALUES (NEW.pk)`);
    const { after } = await installCapture(d.conn, d.name, silentLog);
    expect(after.current).toBe(true);
    expect(after.foreignTriggers).toEqual([{ name: 'site_patient_bu', table: 'patient', timing: 'BEFORE', event: 'UPDATE', definer: expect.any(String) }]);
    const w = new Dcm4cheeWriter(d.conn);
    const pat = await w.createPatient({ patId: '4', name: 'E^F' });
    const st = await w.storeStudy(pat);
    await takeQueue(d.conn);
    await w.renamePatient(pat, 'E^G');
    expect(await takeQueue(d.conn)).toEqual([{ study_pk: st, op: 'U', study_iuid: null }]);
    const [audit] = await d.conn.query<mysql.RowDataPacket[]>('SELECT COUNT(*) n FROM audit_log');
    expect(Number(audit[0]!.n)).toBe(1);
  });

  it('uninstall removes every object, and the PACS keeps writing', async () => {
    const d = await fresh();
    await installCapture(d.conn, d.name, silentLog);
    const after = await uninstallCapture(d.conn, d.name, silentLog);
    expect(after).toMatchObject({ queue: 'missing', stateTable: false, deadLetterTable: false, installed: false });
    expect(after.presentTriggers).toEqual([]);
    expect(await triggerNames(d)).toEqual([]);
    const w = new Dcm4cheeWriter(d.conn);
    const st = await w.storeStudy(await w.createPatient({ patId: '5', name: 'G^H' }));
    await w.addSeries(st, { modality: 'CT', instances: 1 });
    await w.deleteStudy(st);
    await uninstallCapture(d.conn, d.name, silentLog); // idempotent
  });

  it('uninstall leaves a legacy queue that a legacy trigger still writes to', async () => {
    const d = await fresh();
    await d.conn.query(`CREATE TABLE study_service (study_pk INT, PRIMARY KEY (study_pk));
      CREATE TRIGGER indexer_process AFTER INSERT ON study FOR EACH ROW BEGIN insert into study_service values (NEW.pk); END`);
    const after = await uninstallCapture(d.conn, d.name, silentLog);
    expect(after).toMatchObject({ queue: 'legacy', legacyTrigger: true });
  });
});
