import type mysql from 'mysql2/promise';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dcm4cheeWriter } from '../../helpers/dcm4chee-writer.js';
import { startCentralReceiver, type CentralReceiver } from '../../helpers/central-receiver.js';
import type { TestDatabase } from '../../helpers/mysql.js';
import { MAX_SOURCE_SEQ } from '../../../src/shared/record-limits.js';
import { CENTER, KEY, createSite, runCli, stateValue, writeSiteConfig, type CliResult } from '../support/agent-harness.js';
import { TestAccount } from '../support/mysql-account.js';
import { createLeastPrivilegeSite, type LeastPrivilegeSite } from '../support/least-privilege-site.js';

const NEEDED = /FAIL +changes may be missing at the receiver \(.+\): run `indexer reconcile`/;
const statusOf = (r: CliResult) => JSON.parse(r.stdout) as { reconcile_needed: { why: string } | null; missing_iuid: unknown; dead_letters: number };
const live = async (rx: CentralReceiver) => [...(await rx.held(CENTER)).values()].filter((r) => !r.deleted).map((r) => r.study_iuid).sort();

/**
 * Once the agent knows changes may be missing at the receiver (a reinstall's initial load onto a
 * receiver holding the centre's records, a capture that lost changes), it keeps a "reconcile
 * needed" mark in its state: `check` fails and passes warn until a repairing reconcile clears it.
 */
describe('reinstall: uninstall --force, PACS deletions, install, initial', () => {
  let db: TestDatabase;
  let rx: CentralReceiver;
  let dir: string;
  let writer: Dcm4cheeWriter;
  const pks: number[] = [];

  beforeAll(async () => {
    db = await createSite('fixture', 'rneeded_a');
    writer = new Dcm4cheeWriter(db.conn);
    rx = await startCentralReceiver('rneeded_a', { [CENTER]: KEY });
    dir = writeSiteConfig(db, { url: rx.url });
    for (let i = 0; i < 4; i += 1) pks.push(await writer.storeStudy(await writer.createPatient({ patId: `A${i}`, name: `A^${i}` })));
    expect((await runCli(['initial'], dir)).code).toBe(0);
  });
  afterAll(async () => {
    await rx?.close();
    await db?.drop();
  });

  it('check fails (exit 3) naming reconcile, status shows it, sync warns but exits 0; reconcile clears it', async () => {
    const fresh = await runCli(['check'], dir);
    expect(fresh.code, fresh.stdout).toBe(0);
    expect((await runCli(['uninstall', '--force'], dir)).code).toBe(0);
    await writer.deleteStudy(pks[0]!);
    expect((await runCli(['install'], dir)).code).toBe(0);
    const initial = await runCli(['initial'], dir);
    expect(initial.code, initial.stderr).toBe(0);
    expect((await live(rx)).length).toBe(4); // the deleted study is still live: initial cannot remove it
    const check = await runCli(['check'], dir);
    expect(check.code, check.stdout).toBe(3);
    expect(check.stdout).toMatch(NEEDED);
    const status = await runCli(['status'], dir);
    expect(statusOf(status).reconcile_needed?.why).toMatch(/initial load onto a receiver that already held/);
    const sync = await runCli(['sync'], dir);
    expect(sync.code, sync.stderr).toBe(0);
    expect(sync.stderr).toMatch(/"level":40[^\n]*"code":"reconcile_needed"/);
    const dry = await runCli(['reconcile', '--dry-run'], dir);
    expect(dry.code).toBe(0);
    expect((await runCli(['check'], dir)).code).toBe(3);
    const repair = await runCli(['reconcile'], dir);
    expect(repair.code, repair.stderr).toBe(0);
    expect((await live(rx)).length).toBe(3);
    const after = await runCli(['check'], dir);
    expect(after.code, after.stdout).toBe(0);
    expect(statusOf(await runCli(['status'], dir)).reconcile_needed).toBeNull();
    expect((await runCli(['sync'], dir)).stderr).not.toContain('reconcile_needed');
  });

  it('initial --restart on the same state asks for no reconcile', async () => {
    expect((await runCli(['initial', '--restart'], dir)).code).toBe(0);
    expect((await runCli(['check'], dir)).code).toBe(0);
  });

  it('a mark renewed after a reconcile started is not cleared by it', async () => {
    // The repair clears only the mark it read at its start (compared by token, never by time).
    await db.conn.query("INSERT INTO indexer_state (name, value, updated_at) VALUES ('reconcile.needed', '{\"why\":\"older\",\"at\":\"x\",\"token\":\"t1\"}', NOW()) ON DUPLICATE KEY UPDATE value = VALUES(value)");
    const { Dcm4cheeReconcile } = await import('../../../src/agent/sources/dcm4chee/dcm4chee-reconcile.js');
    const { openPacsPool } = await import('../../../src/agent/sources/dcm4chee/pacs-db.js');
    const { writeReconcileMark } = await import('../../../src/agent/sources/dcm4chee/reconcile-mark.js');
    const o = db.options;
    const pool = await openPacsPool({ host: o.host, port: o.port, user: o.user, password: o.password ?? '', name: db.name } as never);
    try {
      const reader = new Dcm4cheeReconcile(pool, CENTER, (w) => w());
      const finish = await reader.beginRepair();
      await writeReconcileMark(pool, 'newer');
      await finish();
      expect(await stateValue(db.conn, 'reconcile.needed')).toContain('newer');
    } finally {
      await pool.end();
    }
    expect((await runCli(['reconcile'], dir)).code).toBe(0);
    expect(await stateValue(db.conn, 'reconcile.needed')).toBeNull();
  });
});

describe('a definer that lost INSERT on study_service: changes silently lost until a reconcile', () => {
  let site: LeastPrivilegeSite | undefined;
  let db: TestDatabase;
  let agent: TestAccount;
  let rx: CentralReceiver;
  let dir: string;
  let writer: Dcm4cheeWriter;

  beforeAll(async () => {
    site = await createLeastPrivilegeSite({ db: 'rneeded_b', agent: 'idxrn', pacs: 'pacsrn', receiver: 'rneeded_b' }, { install: true });
    ({ db, agent, receiver: rx, dir, writer } = site);
    await writer.storeStudy(await writer.createPatient({ patId: 'B0', name: 'B^ZERO' }));
    expect((await runCli(['initial'], dir)).code).toBe(0);
  });
  afterAll(async () => {
    await site?.close();
  });

  it('sync exits 3 naming the GRANT then reconcile; once granted, sync warns and check fails until reconcile', async () => {
    await agent.apply(`REVOKE INSERT ON \`${db.name}\`.\`study_service\` FROM ${agent.account}`);
    await writer.storeStudy(await writer.createPatient({ patId: 'B1', name: 'B^ONE' }));
    const broken = await runCli(['sync'], dir);
    expect(broken.code, broken.stderr).toBe(3);
    expect(broken.stderr).toContain('then `indexer reconcile`');
    await agent.apply(`GRANT INSERT ON \`${db.name}\`.\`study_service\` TO ${agent.account}`);
    const sync = await runCli(['sync'], dir);
    expect(sync.code, sync.stderr).toBe(0);
    expect(sync.stderr).toMatch(/"code":"reconcile_needed"/);
    const check = await runCli(['check'], dir);
    expect(check.code, check.stdout).toBe(3);
    expect(check.stdout).toMatch(/FAIL +changes may be missing at the receiver \(the capture lost changes: definer_lacks_privilege[^)]*\): run `indexer reconcile`/);
    expect((await live(rx)).length).toBe(1);
    expect((await runCli(['reconcile'], dir)).code).toBe(0);
    expect((await live(rx)).length).toBe(2);
    const after = await runCli(['check'], dir);
    expect(after.code, after.stdout).toBe(0);
  });
});

describe('dead letters and versions', () => {
  let db: TestDatabase;
  let rx: CentralReceiver;
  let dir: string;
  let writer: Dcm4cheeWriter;

  beforeAll(async () => {
    db = await createSite('fixture', 'rneeded_c');
    writer = new Dcm4cheeWriter(db.conn);
    rx = await startCentralReceiver('rneeded_c', { [CENTER]: KEY });
    dir = writeSiteConfig(db, { url: rx.url });
    await writer.storeStudy(await writer.createPatient({ patId: 'C0', name: 'C^ZERO' }));
    expect((await runCli(['initial'], dir)).code).toBe(0);
  });
  afterAll(async () => {
    await rx?.close();
    await db?.drop();
  });

  it('a dead letter goes once a newer version of its study is stored; status and list no longer show it', async () => {
    const iuid = '1.2.826.0.1.3680043.2.1.77';
    const pk = await writer.storeStudy(await writer.createPatient({ patId: 'C1', name: 'C^ONE' }), { iuid });
    rx.proxy.corruptIuids.add(iuid);
    expect((await runCli(['sync'], dir)).code).toBe(0);
    expect(statusOf(await runCli(['status'], dir)).dead_letters).toBe(1);
    rx.proxy.corruptIuids.clear();
    await writer.updateStudy(pk, { desc: 'fixed at the PACS' });
    expect((await runCli(['sync'], dir)).code).toBe(0);
    expect((await rx.held(CENTER)).get(iuid)?.study_description).toBe('fixed at the PACS');
    expect(statusOf(await runCli(['status'], dir)).dead_letters).toBe(0);
    const list = await runCli(['dead-letters', 'list', '--json'], dir);
    expect((JSON.parse(list.stdout) as { total: number }).total).toBe(0);
  });

  it('a receiver holding MAX_SOURCE_SEQ for the centre: sync exits 6, nothing sent, version_high untouched', async () => {
    const body = gzipSync(JSON.stringify({ records: [{ study_iuid: '9.9.9', source_seq: MAX_SOURCE_SEQ, deleted: true, center: CENTER }] }));
    const res = await fetch(`${rx.base}/api/v2/centers/${CENTER}/studies`, {
      method: 'POST', body, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', authorization: `Bearer ${KEY}` },
    });
    const answer = (await res.json()) as { stored: number; rejected: unknown[] };
    expect(answer.stored, JSON.stringify(answer)).toBe(1);
    const high = await stateValue(db.conn, 'version_high');
    await writer.storeStudy(await writer.createPatient({ patId: 'C2', name: 'C^TWO' }));
    const sent = rx.batches();
    const sync = await runCli(['sync'], dir);
    expect(sync.code, sync.stderr).toBe(6);
    expect(sync.stderr).toContain('Absurd versions');
    expect(rx.batches()).toBe(sent);
    expect(await stateValue(db.conn, 'version_high')).toBe(high);
    expect(statusOf(await runCli(['status'], dir)).dead_letters).toBe(0);
  });
});
