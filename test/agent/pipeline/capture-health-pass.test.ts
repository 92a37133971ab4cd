import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dcm4cheeWriter } from '../../helpers/dcm4chee-writer.js';
import { startCentralReceiver, type CentralReceiver } from '../../helpers/central-receiver.js';
import type { TestDatabase } from '../../helpers/mysql.js';
import { CENTER, KEY, createSite, queueCount, runCli, spawnCli, waitFor, writeSiteConfig, type CliResult } from '../support/agent-harness.js';
import { TestAccount } from '../support/mysql-account.js';
import { createLeastPrivilegeSite, type LeastPrivilegeSite } from '../support/least-privilege-site.js';

interface StatusJson {
  capture: { ok: boolean; problems: { code: string; message: string }[]; notes: { code: string }[] } | null;
  queue_backlog: number;
}

const statusOf = (res: CliResult): StatusJson => JSON.parse(res.stdout) as StatusJson;

/**
 * A broken capture — the triggers' definer lost a privilege, a trigger was dropped, the queue was
 * reset — makes every pass and `status` fail (exit 3) naming the problem and its repair, after the
 * pass delivered what was queued (nothing lost by waiting). Before, only `check` said so: cron-only
 * sites never learned that every PACS write on study failed, or that changes were silently lost.
 */
describe('a broken capture fails sync, initial and status (exit 3), after delivering what was queued', () => {
  let site: LeastPrivilegeSite | undefined;
  let db: TestDatabase;
  let agent: TestAccount;
  let receiver: CentralReceiver;
  let dir: string;
  let writer: Dcm4cheeWriter;
  const grantOn = (table: string, privilege: string) => `GRANT ${privilege} ON \`${db.name}\`.\`${table}\` TO '${agent.user}'@'%';`;

  beforeAll(async () => {
    site = await createLeastPrivilegeSite({ db: 'health', agent: 'idxh', pacs: 'pacsh', receiver: 'capture_health_pass' }, { install: true });
    ({ db, agent, receiver, dir, writer } = site);
    await writer.storeStudy(await writer.createPatient({ patId: '1-9', name: 'UNO^UNA' }));
    const initial = await runCli(['initial'], dir);
    expect(initial.code, initial.stderr).toBe(0);
  });
  afterAll(async () => {
    await site?.close();
  });

  const live = async () => [...(await receiver.held(CENTER)).values()].filter((r) => !r.deleted).length;

  it('healthy: an idle sync and status exit 0, status says capture ok', async () => {
    const sync = await runCli(['sync'], dir);
    expect(sync.code, sync.stderr).toBe(0);
    const status = await runCli(['status'], dir);
    expect(status.code, status.stderr).toBe(0);
    expect(statusOf(status).capture).toMatchObject({ ok: true, problems: [] });
  });

  it('definer without TRIGGER on study: the queued study is delivered, then sync and status exit 3 naming the GRANT', async () => {
    await writer.storeStudy(await writer.createPatient({ patId: '2-7', name: 'DOS^DOS' }));
    await agent.apply(`REVOKE TRIGGER ON \`${db.name}\`.\`study\` FROM ${agent.account}`);
    const broken = await writer.createPatient({ patId: '3-5', name: 'TRES^TRES' }).then((pk) => writer.storeStudy(pk)).catch((e: unknown) => e);
    expect(broken).toMatchObject({ errno: 1142 });
    const before = await live();
    const sync = await runCli(['sync'], dir);
    expect(sync.code, sync.stderr).toBe(3);
    expect(await live()).toBe(before + 1);
    expect(await queueCount(db.conn)).toBe(0);
    expect(sync.stderr).toContain('every PACS INSERT, UPDATE and DELETE on study fails');
    expect(sync.stderr).toContain(grantOn('study', 'TRIGGER'));
    const status = await runCli(['status'], dir);
    expect(status.code).toBe(3);
    const capture = statusOf(status).capture!;
    expect(capture.ok).toBe(false);
    expect(capture.problems.map((p) => p.code)).toEqual(expect.arrayContaining(['triggers_not_visible', 'definer_lacks_privilege']));
    expect(status.stderr).toContain(grantOn('study', 'TRIGGER'));
    await agent.apply(`GRANT TRIGGER ON \`${db.name}\`.\`study\` TO ${agent.account}`);
    expect((await runCli(['sync'], dir)).code).toBe(0);
  });

  it('check prints both the "cannot see the triggers" FAIL line and the definer FAIL line', async () => {
    await agent.apply(`REVOKE TRIGGER ON \`${db.name}\`.\`study\` FROM ${agent.account}`);
    const res = await runCli(['check'], dir);
    await agent.apply(`GRANT TRIGGER ON \`${db.name}\`.\`study\` TO ${agent.account}`);
    expect(res.code, res.stdout).toBe(3);
    expect(res.stdout).toMatch(/FAIL +cannot see the capture triggers on study: .* lacks TRIGGER/);
    expect(res.stdout).toMatch(/FAIL +the capture triggers' definer .* lacks TRIGGER on study/);
  });

  it('definer without INSERT on study_service (changes silently lost): sync and status exit 3 naming the GRANT', async () => {
    await agent.apply(`REVOKE INSERT ON \`${db.name}\`.\`study_service\` FROM ${agent.account}`);
    try {
      const sync = await runCli(['sync'], dir);
      expect(sync.code, sync.stderr).toBe(3);
      expect(sync.stderr).toContain('the triggers cannot queue: every change is silently lost');
      expect(sync.stderr).toContain(grantOn('study_service', 'INSERT'));
      const status = await runCli(['status'], dir);
      expect(status.code).toBe(3);
      expect(statusOf(status).capture!.problems.map((p) => p.code)).toContain('definer_lacks_privilege');
    } finally {
      await agent.apply(`GRANT INSERT ON \`${db.name}\`.\`study_service\` TO ${agent.account}`);
    }
  });

  it('SELECT on patient revoked with nothing queued: sync and status still exit 3', async () => {
    expect(await queueCount(db.conn)).toBe(0);
    await agent.apply(`REVOKE SELECT ON \`${db.name}\`.\`patient\` FROM ${agent.account}`);
    try {
      const sync = await runCli(['sync'], dir);
      expect(sync.code, sync.stderr).toBe(3);
      expect(sync.stderr).toContain(grantOn('patient', 'SELECT'));
      const status = await runCli(['status'], dir);
      expect(status.code).toBe(3);
      expect(statusOf(status).capture!.problems.map((p) => p.code)).toEqual(expect.arrayContaining(['definer_lacks_privilege', 'agent_lacks_privilege']));
    } finally {
      await agent.apply(`GRANT SELECT ON \`${db.name}\`.\`patient\` TO ${agent.account}`);
    }
    expect((await runCli(['status'], dir)).code).toBe(0);
  });
});

describe('a dropped trigger or a reset queue fails sync and initial (exit 3) naming the repair', () => {
  let db: TestDatabase;
  let receiver: CentralReceiver;
  let dir: string;
  let writer: Dcm4cheeWriter;

  beforeAll(async () => {
    db = await createSite('fixture', 'health_m2');
    writer = new Dcm4cheeWriter(db.conn);
    receiver = await startCentralReceiver('capture_health_pass', { [CENTER]: KEY });
    dir = writeSiteConfig(db, { url: receiver.url });
    for (let i = 0; i < 3; i += 1) await writer.storeStudy(await writer.createPatient({ patId: `${i}`, name: `P^${i}` }));
    expect((await runCli(['initial'], dir)).code).toBe(0);
  });
  afterAll(async () => {
    await receiver?.close();
    await db?.drop();
  });

  it('a dropped trigger: what was queued is delivered, sync exits 3 naming it, install + reconcile repair it', async () => {
    await writer.storeStudy(await writer.createPatient({ patId: '9', name: 'N^N' }));
    await db.conn.query('DROP TRIGGER indexer_study_ad');
    const sync = await runCli(['sync'], dir);
    expect(sync.code, sync.stderr).toBe(3);
    expect(await queueCount(db.conn)).toBe(0);
    expect((await receiver.held(CENTER)).size).toBe(4);
    expect(sync.stderr).toContain('triggers missing: indexer_study_ad');
    expect(sync.stderr).toContain('run `indexer install`, then `indexer reconcile`');
    const initial = await runCli(['initial', '--restart'], dir);
    expect(initial.code, initial.stderr).toBe(3);
    expect(initial.stderr).toContain('triggers missing: indexer_study_ad');
    expect((await runCli(['install'], dir)).code).toBe(0);
    expect((await runCli(['reconcile'], dir)).code).toBe(0);
    expect((await runCli(['sync'], dir)).code).toBe(0);
  });

  it('daemon: each pass logs the broken capture at error level and the daemon keeps running', async () => {
    await db.conn.query('DROP TRIGGER indexer_patient_au');
    const daemon = spawnCli(['daemon', '--schedule', '* * * * * *'], dir);
    let stderr = '';
    daemon.child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const failures = () => stderr.split('\n').filter((l) => l.includes('"CAPTURE_UNHEALTHY"') && l.includes('"level":50'));
    try {
      await waitFor(() => failures().length >= 2, 'two daemon passes failing on the dropped trigger', 20_000);
    } finally {
      daemon.child.kill('SIGTERM');
    }
    const res = await daemon.done;
    expect(res.code).toBe(0);
    expect(failures()[0]).toContain('triggers missing: indexer_patient_au');
    expect((await runCli(['install'], dir)).code).toBe(0);
  });

  it('a reset queue: changes queued since are delivered, sync exits 3 saying to reconcile; after reconcile, 0', async () => {
    await writer.storeStudy(await writer.createPatient({ patId: '10', name: 'D^D' }));
    await db.conn.query('TRUNCATE TABLE study_service');
    await writer.storeStudy(await writer.createPatient({ patId: '11', name: 'O^O' }));
    const before = (await receiver.held(CENTER)).size;
    const sync = await runCli(['sync'], dir);
    expect(sync.code, sync.stderr).toBe(3);
    expect((await receiver.held(CENTER)).size).toBe(before + 1);
    expect(sync.stderr).toContain('change queue study_service was truncated or recreated');
    expect(sync.stderr).toContain('run `indexer reconcile`');
    const status = await runCli(['status'], dir);
    expect(status.code).toBe(3);
    expect(statusOf(status).capture!.problems.map((p) => p.code)).toEqual(['queue_reset']);
    expect((await runCli(['reconcile'], dir)).code).toBe(0);
    expect((await receiver.held(CENTER)).size).toBe(before + 2);
    expect((await runCli(['sync'], dir)).code).toBe(0);
  });
});
