import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantStatements } from '../../../../src/agent/sources/dcm4chee/capture-errors.js';
import { queueEntries } from '../../../helpers/capture.js';
import type { Dcm4cheeWriter } from '../../../helpers/dcm4chee-writer.js';
import type { CentralReceiver } from '../../../helpers/central-receiver.js';
import type { TestDatabase } from '../../../helpers/mysql.js';
import { CENTER, runCli, writeSiteConfig } from '../../support/agent-harness.js';
import { TestAccount, readmeGrants, revokesBetween } from '../../support/mysql-account.js';
import { createLeastPrivilegeSite, type LeastPrivilegeSite } from '../../support/least-privilege-site.js';

/**
 * The README's least-privilege flow, as a DBA follows it: the agent's account gets exactly the
 * install-time GRANTs, runs `indexer install`, is cut down to the run-time GRANTs; the PACS's own
 * account then writes like dcm4chee, and every write must commit and be queued (MySQL checks the
 * triggers' definer — the agent's account — each time they fire). `sync` and `check` work.
 */
describe('least privilege: README grants → install → run-time grants → PACS writes → sync → check', () => {
  let site: LeastPrivilegeSite | undefined;
  let db: TestDatabase;
  let agent: TestAccount;
  let receiver: CentralReceiver;
  let dir: string;
  let writer: Dcm4cheeWriter;
  let grants: ReturnType<typeof readmeGrants>;

  beforeAll(async () => {
    site = await createLeastPrivilegeSite({ db: 'leastpriv', agent: 'idx', pacs: 'pacs', receiver: 'least_privilege' });
    ({ db, agent, receiver, dir, writer, grants } = site);
  });
  afterAll(async () => {
    await site?.close();
  });

  const check = () => runCli(['check'], dir);

  it('the README lists exactly what the agent prints (run time keeps the definer’s TRIGGER)', () => {
    expect([...grants.install, ...grants.legacy]).toEqual(grantStatements(agent.account, db.name, 'install').map((g) => g.replace(/;\s+--.*$/, ';')));
    expect(grants.run).toEqual(grantStatements(agent.account, db.name, 'run'));
    expect(grants.run).toContain(`GRANT SELECT, TRIGGER ON \`${db.name}\`.\`study\` TO ${agent.account};`);
  });

  it('install with the install-time grants succeeds on a site that never ran the legacy indexer', async () => {
    for (const g of grants.install) await agent.apply(g);
    const res = await runCli(['install'], dir);
    expect(res.code, res.stderr).toBe(0);
    const [trg] = await db.conn.query<mysql.RowDataPacket[]>('SELECT DISTINCT DEFINER AS d FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?', [db.name]);
    expect(trg.map((r) => String(r.d))).toEqual([`${agent.user}@%`]);
  });

  it('cut to the run-time grants, dcm4chee writes by the PACS account commit and are queued', async () => {
    for (const r of revokesBetween(grants.install, grants.run)) await agent.apply(r);
    const p = await writer.createPatient({ patId: '11.111.111-1', name: 'PEÑA^ANA' });
    const q = await writer.createPatient({ patId: '22.222.222-2', name: 'ROJAS^LUIS' });
    const st = await writer.storeStudy(p, { desc: 'TAC' });
    await writer.addSeries(st, { modality: 'CT', instances: 3 });
    const other = await writer.storeStudy(q);
    await writer.renamePatient(p, 'PEÑA^ANA MARÍA');
    await writer.deleteStudy(other);
    const [[n]] = await db.conn.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM study');
    expect(Number(n!.n)).toBe(1);
    const ops = (await queueEntries(db.conn)).map((e) => `${e.op}${e.study_pk === st ? 's' : 'o'}`);
    expect(ops).toEqual(expect.arrayContaining(['Is', 'Us', 'Io', 'Do']));
  });

  it('initial, sync and status work with the run-time grants; check exits 0', async () => {
    const initial = await runCli(['initial'], dir);
    expect(initial.code, initial.stderr).toBe(0);
    await writer.storeStudy(await writer.createPatient({ patId: '33.333.333-3', name: 'SOTO^EVA' }));
    const sync = await runCli(['sync'], dir);
    expect(sync.code, sync.stderr).toBe(0);
    expect([...(await receiver.held(CENTER)).values()].filter((r) => !r.deleted)).toHaveLength(2);
    expect((await runCli(['status'], dir)).code).toBe(0);
    const res = await check();
    expect(res.code, res.stdout).toBe(0);
    expect(res.stdout).toContain(`the capture triggers' definer '${agent.user}'@'%' (this account) keeps TRIGGER`);
  });

  it('check exits 3 when the definer lacks TRIGGER on study, and a PACS write really fails', async () => {
    await agent.apply(`REVOKE TRIGGER ON \`${db.name}\`.\`study\` FROM ${agent.account}`);
    const err = await writer.createPatient({ patId: '4', name: 'X^Y' }).then((pk) => writer.storeStudy(pk)).catch((e: unknown) => e);
    expect(err).toMatchObject({ errno: 1142 });
    const res = await check();
    expect(res.code, res.stdout).toBe(3);
    expect(res.stdout).toMatch(/FAIL .*lacks TRIGGER on .*study/);
    // As an account that sees every trigger (root here), check names the definer and the effect.
    const rootDir = writeSiteConfig(db, { url: receiver.url });
    const asRoot = await runCli(['check'], rootDir);
    expect(asRoot.code).toBe(3);
    expect(asRoot.stdout).toContain(`definer '${agent.user}'@'%' lacks TRIGGER on study: every PACS INSERT, UPDATE and DELETE on study fails`);
    await agent.apply(`GRANT TRIGGER ON \`${db.name}\`.\`study\` TO ${agent.account}`);
    expect((await check()).code).toBe(0);
  });

  it('check exits 3 when the definer lacks INSERT on study_service (changes silently lost)', async () => {
    await agent.apply(`REVOKE INSERT ON \`${db.name}\`.\`study_service\` FROM ${agent.account}`);
    const before = (await queueEntries(db.conn)).length;
    await writer.storeStudy(await writer.createPatient({ patId: '5', name: 'Z^W' }));
    expect((await queueEntries(db.conn)).length).toBe(before); // committed, but not queued
    const res = await check();
    expect(res.code, res.stdout).toBe(3);
    expect(res.stdout).toContain('lacks INSERT on study_service: the triggers cannot queue');
    await agent.apply(`GRANT INSERT ON \`${db.name}\`.\`study_service\` TO ${agent.account}`);
  });

  it('a privilege revoked at run time makes sync and status exit 3 naming the GRANT, not "unreachable"', async () => {
    await writer.storeStudy(await writer.createPatient({ patId: '6', name: 'V^U' }));
    await agent.apply(`REVOKE DELETE ON \`${db.name}\`.\`study_service\` FROM ${agent.account}`);
    const res = await runCli(['sync'], dir);
    expect(res.code).toBe(3);
    expect(res.stderr).toContain(`GRANT DELETE ON \`${db.name}\`.\`study_service\` TO '${agent.user}'@'%';`);
    expect(res.stderr).not.toMatch(/cannot reach|DB_UNREACHABLE/);
    await agent.apply(`GRANT DELETE ON \`${db.name}\`.\`study_service\` TO ${agent.account}`);
    await agent.apply(`REVOKE SELECT ON \`${db.name}\`.\`patient\` FROM ${agent.account}`);
    const denied = await runCli(['sync'], dir);
    expect(denied.code).toBe(3);
    expect(denied.stderr).toContain(`lacks SELECT on \`${db.name}\`.\`patient\``);
    await agent.apply(`REVOKE SELECT ON \`${db.name}\`.\`indexer_dead_letter\` FROM ${agent.account}`);
    const status = await runCli(['status'], dir);
    expect(status.code).toBe(3);
    expect(status.stderr).toContain(`GRANT SELECT ON \`${db.name}\`.\`indexer_dead_letter\` TO '${agent.user}'@'%';`);
    await agent.apply(`GRANT SELECT ON \`${db.name}\`.\`indexer_dead_letter\` TO ${agent.account}`);
    await agent.apply(`GRANT SELECT ON \`${db.name}\`.\`patient\` TO ${agent.account}`);
    expect((await runCli(['sync'], dir)).code).toBe(0);
  });

  it('check exits 3 when the account cannot see the triggers (no TRIGGER at all)', async () => {
    for (const t of ['study', 'patient']) await agent.apply(`REVOKE TRIGGER ON \`${db.name}\`.\`${t}\` FROM ${agent.account}`);
    const res = await check();
    expect(res.code).toBe(3);
    expect(res.stdout).toMatch(/FAIL .*cannot see the capture triggers on study and patient/);
    for (const t of ['study', 'patient']) await agent.apply(`GRANT TRIGGER ON \`${db.name}\`.\`${t}\` TO ${agent.account}`);
  });
});
