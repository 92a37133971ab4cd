import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectCapture } from '../../../src/agent/sources/dcm4chee/capture-objects.js';
import { Dcm4cheeWriter } from '../../helpers/dcm4chee-writer.js';
import { startCentralReceiver, type CentralReceiver } from '../../helpers/central-receiver.js';
import type { TestDatabase } from '../../helpers/mysql.js';
import { CENTER, KEY, createSite, queueCount, runCli, writeSiteConfig } from '../support/agent-harness.js';

/**
 * `uninstall` drops the queue and the checkpoints with it: with changes still queued it refuses
 * (exit 3, naming the count and both ways out) unless --force; after a reinstall, `check` and
 * `sync` say that the checkpoints are gone and what to run (`initial` or `reconcile`).
 */
describe('uninstall with changes queued, and what a reinstall needs', () => {
  let db: TestDatabase;
  let receiver: CentralReceiver;
  let dir: string;
  let writer: Dcm4cheeWriter;

  beforeAll(async () => {
    db = await createSite('fixture', 'reinstall');
    writer = new Dcm4cheeWriter(db.conn);
    receiver = await startCentralReceiver('uninstall_reinstall', { [CENTER]: KEY });
    dir = writeSiteConfig(db, { url: receiver.url });
    await writer.storeStudy(await writer.createPatient({ patId: '1', name: 'A^B' }));
    expect((await runCli(['initial'], dir)).code).toBe(0);
  });
  afterAll(async () => {
    await receiver?.close();
    await db?.drop();
  });

  it('refuses (exit 3) while changes are queued, naming the count, `indexer sync` and --force; nothing changed', async () => {
    await writer.storeStudy(await writer.createPatient({ patId: '2', name: 'C^D' }));
    await writer.storeStudy(await writer.createPatient({ patId: '3', name: 'E^F' }));
    const res = await runCli(['uninstall'], dir);
    expect(res.code, res.stderr).toBe(3);
    expect(res.stderr).toContain('2 changes are still queued');
    expect(res.stderr).toContain('run `indexer sync` first');
    expect(res.stderr).toContain('`indexer uninstall --force`');
    expect(await inspectCapture(db.conn, db.name)).toMatchObject({ current: true });
    expect(await queueCount(db.conn)).toBe(2);
    expect((await runCli(['uninstall', '--force', '--print'], dir)).code).toBe(2);
    expect(await inspectCapture(db.conn, db.name)).toMatchObject({ current: true });
  });

  it('--force discards them and says what a later install needs', async () => {
    const res = await runCli(['uninstall', '--force'], dir);
    expect(res.code, res.stderr).toBe(0);
    expect(await inspectCapture(db.conn, db.name)).toMatchObject({ queue: 'missing', stateTable: false });
    expect(res.stdout).toContain('run `indexer initial`');
  });

  it('after the reinstall, check and sync say the checkpoints are gone: run `indexer initial` or `indexer reconcile`', async () => {
    expect((await runCli(['install'], dir)).code).toBe(0);
    const check = await runCli(['check'], dir);
    expect(check.stdout).toMatch(/note +initial load not done: changes made before `indexer install` were never queued; run `indexer initial` \(after an uninstall \+ install too/);
    expect(check.stdout).toContain('`indexer reconcile`');
    const sync = await runCli(['sync'], dir);
    expect(sync.code, sync.stderr).toBe(0);
    expect(sync.stderr).toMatch(/"level":40[^\n]*"code":"initial_not_done"/);
    expect((await runCli(['initial'], dir)).code).toBe(0);
    expect((await receiver.held(CENTER)).size).toBe(3);
    const after = await runCli(['sync'], dir);
    expect(after.stderr).not.toContain('initial_not_done');
  });

  it('uninstall with an empty queue needs no --force', async () => {
    expect(await queueCount(db.conn)).toBe(0);
    expect((await runCli(['uninstall'], dir)).code).toBe(0);
  });
});
