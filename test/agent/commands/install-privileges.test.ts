import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { inspectCapture } from '../../../src/agent/sources/dcm4chee/capture-objects.js';
import { queueEntries } from '../../helpers/capture.js';
import { Dcm4cheeWriter } from '../../helpers/dcm4chee-writer.js';
import { startCentralReceiver, type CentralReceiver } from '../../helpers/central-receiver.js';
import type { TestDatabase } from '../../helpers/mysql.js';
import { createPacsdb } from '../../helpers/pacsdb.js';
import { CENTER, KEY, runCli, writeSiteConfig } from '../support/agent-harness.js';
import { TestAccount, readmeGrants } from '../support/mysql-account.js';

/** install/uninstall with the README's install-time grants: all or nothing, naming what is missing. */
describe('install and uninstall under least privilege (built CLI)', () => {
  let db: TestDatabase;
  let agent: TestAccount;
  let receiver: CentralReceiver;
  const extra: TestAccount[] = [];

  beforeAll(async () => {
    receiver = await startCentralReceiver('install_privileges', { [CENTER]: KEY });
  });
  afterEach(async () => {
    await db?.drop();
    await agent?.drop();
    for (const a of extra.splice(0)) await a.drop();
  });
  afterAll(async () => {
    await receiver?.close();
  });

  const site = async (grant: (g: ReturnType<typeof readmeGrants>) => string[]) => {
    db = await createPacsdb('fixture', 'instpriv');
    agent = await TestAccount.create(db.conn, 'idx');
    const grants = readmeGrants(db.name, agent.account);
    for (const g of grant(grants)) await agent.apply(g);
    return { dir: agent.siteConfig(db, { url: receiver.url }), grants };
  };
  const nothingInstalled = { queue: 'missing', stateTable: false, deadLetterTable: false, presentTriggers: [] };

  it('install missing one grant changes nothing and names the privilege, the statement and the GRANT', async () => {
    const { dir } = await site((g) => g.install.map((l) => (l.includes('`patient`') ? l.replace('SELECT, TRIGGER', 'SELECT') : l)));
    const res = await runCli(['install'], dir);
    expect(res.code).toBe(3);
    expect(res.stderr).toContain(`lacks TRIGGER on \`${db.name}\`.\`patient\` (needed by DROP TRIGGER / CREATE TRIGGER indexer_patient_au`);
    expect(res.stderr).toContain('nothing was changed');
    expect(res.stderr).toContain(`GRANT TRIGGER ON \`${db.name}\`.\`patient\` TO ${agent.account};`);
    expect(await inspectCapture(db.conn, db.name)).toMatchObject(nothingInstalled);
    await agent.apply(`GRANT TRIGGER ON \`${db.name}\`.\`patient\` TO ${agent.account}`);
    expect((await runCli(['install'], dir)).code).toBe(0);
  });

  it('uninstall missing one grant changes nothing; with the install-time grants it removes everything', async () => {
    const { dir, grants } = await site((g) => g.install);
    expect((await runCli(['install'], dir)).code).toBe(0);
    await agent.apply(`REVOKE DROP ON \`${db.name}\`.\`indexer_state\` FROM ${agent.account}`);
    const res = await runCli(['uninstall'], dir);
    expect(res.code).toBe(3);
    expect(res.stderr).toContain(`lacks DROP on \`${db.name}\`.\`indexer_state\` (needed by DROP TABLE indexer_state)`);
    expect(await inspectCapture(db.conn, db.name)).toMatchObject({ current: true });
    for (const g of grants.install) await agent.apply(g);
    const ok = await runCli(['uninstall'], dir); // never-legacy site: no privilege on indexer_legacy_queue
    expect(ok.code, ok.stderr).toBe(0);
    expect(await inspectCapture(db.conn, db.name)).toMatchObject(nothingInstalled);
  });

  it('install replaces the legacy indexer with the install-time grants plus the legacy line', async () => {
    const { dir } = await site((g) => [...g.install, ...g.legacy]);
    await db.conn.query(`CREATE TABLE study_service (study_pk INT, PRIMARY KEY (study_pk)); INSERT INTO study_service VALUES (7), (9);
      CREATE TRIGGER indexer_process AFTER INSERT ON study FOR EACH ROW BEGIN INSERT INTO study_service VALUES (NEW.pk); END`);
    const res = await runCli(['install'], dir);
    expect(res.code, res.stderr).toBe(0);
    expect(await inspectCapture(db.conn, db.name)).toMatchObject({ current: true, legacyTrigger: false, legacyQueueTable: false });
    expect((await queueEntries(db.conn)).map((e) => `${e.op}${e.study_pk}`)).toEqual(['U7', 'U9']);
  });

  it('check reports a half-installed state by name, with "run `indexer install`"', async () => {
    const { dir } = await site((g) => g.install);
    expect((await runCli(['install'], dir)).code).toBe(0);
    await db.conn.query('DROP TRIGGER indexer_patient_au; DROP TABLE indexer_dead_letter');
    const res = await runCli(['check'], dir);
    expect(res.code).toBe(3);
    expect(res.stdout).toContain('FAIL  capture objects: table indexer_dead_letter is missing; triggers missing: indexer_patient_au — run `indexer install`');
  });

  it('a dropped definer account: check exits 3 naming it; install as another account repairs it', async () => {
    const { dir } = await site((g) => g.install);
    expect((await runCli(['install'], dir)).code).toBe(0);
    // A second account with the run-time grants runs check; then the DBA drops the definer.
    const checker = await TestAccount.create(db.conn, 'chk');
    extra.push(checker);
    for (const g of readmeGrants(db.name, checker.account).run) await checker.apply(g);
    await agent.drop();
    const w = new Dcm4cheeWriter(db.conn);
    expect(await w.createPatient({ patId: '8', name: 'A^B' }).then((p) => w.storeStudy(p)).catch((e: unknown) => e)).toMatchObject({ errno: 1449 });
    const rootDir = writeSiteConfig(db, { url: receiver.url });
    const asRoot = await runCli(['check'], rootDir);
    expect(asRoot.code).toBe(3);
    expect(asRoot.stdout).toContain(`definer '${agent.user}'@'%' does not exist: every PACS INSERT, UPDATE and DELETE on study`);
    // An account that may not read others' grants cannot tell: it says so and what to verify.
    const asChecker = await runCli(['check'], checker.siteConfig(db, { url: receiver.url }));
    expect(asChecker.stdout).toContain(`note  cannot verify the capture triggers' definer '${agent.user}'@'%'`);
    expect(asChecker.stdout).toContain(`SHOW GRANTS FOR '${agent.user}'@'%'`);
    expect((await runCli(['install'], rootDir)).code).toBe(0);
    await w.storeStudy(await w.createPatient({ patId: '9', name: 'C^D' }));
    expect((await runCli(['check'], rootDir)).code).toBe(0);
  });
});
