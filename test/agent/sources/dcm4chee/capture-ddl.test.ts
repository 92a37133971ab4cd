import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectCapture } from '../../../../src/agent/sources/dcm4chee/capture-objects.js';
import { Dcm4cheeWriter } from '../../../helpers/dcm4chee-writer.js';
import type { TestDatabase } from '../../../helpers/mysql.js';
import { createSite, spawnCli, waitFor, writeSiteConfig } from '../../support/agent-harness.js';

/**
 * install/uninstall change triggers on study, which needs an exclusive metadata lock: while that
 * request waits for an open PACS transaction, every new PACS statement on study queues behind it.
 * One attempt must give up quickly (1 s) and retry after a pause, so a PACS write waits at most
 * about a second — never the 5 s a single long lock wait used to stall every PACS write.
 */
describe('install with a PACS transaction holding a row lock on study', () => {
  let db: TestDatabase;
  let holder: mysql.Connection;
  let pacs: mysql.Connection;
  let admin: mysql.Connection;
  const pks: number[] = [];

  beforeAll(async () => {
    db = await createSite('fixture', 'ddl_wait');
    const writer = new Dcm4cheeWriter(db.conn);
    const patient = await writer.createPatient({ patId: '1-9', name: 'ROJAS^ANA' });
    for (let i = 0; i < 2; i += 1) pks.push(await writer.storeStudy(patient, { desc: `S${i}` }));
    holder = await mysql.createConnection({ ...db.options, multipleStatements: false });
    pacs = await mysql.createConnection({ ...db.options, multipleStatements: false });
    admin = await mysql.createConnection({ ...db.options, multipleStatements: false });
  });
  afterAll(async () => {
    for (const c of [holder, pacs, admin]) await c?.end().catch(() => undefined);
    await db?.drop();
  });

  it('a concurrent single-row PACS UPDATE waits well under the old 5 s; install succeeds once the lock is released', async () => {
    await holder.query('BEGIN');
    await holder.query('SELECT pk FROM study WHERE pk = ? FOR UPDATE', [pks[0]]);
    const install = spawnCli(['install'], writeSiteConfig(db));
    let waitMs = Number.NaN;
    try {
      // The install's DDL is waiting for the metadata lock: PACS statements on study now queue.
      await waitFor(async () => {
        const [rows] = await admin.query<mysql.RowDataPacket[]>(
          "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ? AND STATE LIKE 'Waiting for table metadata lock' AND INFO LIKE '%TRIGGER%'",
          [db.name],
        );
        return Number(rows[0]!.n) > 0;
      }, 'install waiting for the metadata lock on study', 20_000);
      const started = performance.now();
      await pacs.query('UPDATE study SET study_desc = ? WHERE pk = ?', ['CAMBIADA', pks[1]]);
      waitMs = performance.now() - started;
    } finally {
      await holder.query('COMMIT');
    }
    const res = await install.done;
    expect(waitMs).toBeLessThan(2000);
    expect([0, 4], res.stderr).toContain(res.code);
    if (res.code === 0) expect(await inspectCapture(db.conn, db.name)).toMatchObject({ current: true });
    else expect(res.stderr).toContain('stayed busy');
  });
});
