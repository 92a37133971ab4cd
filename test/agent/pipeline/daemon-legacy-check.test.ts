import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Dcm4cheeWriter } from '../../helpers/dcm4chee-writer.js';
import { LEGACY_POSTS, startCentralReceiver, type CentralReceiver } from '../../helpers/central-receiver.js';
import type { TestDatabase } from '../../helpers/mysql.js';
import { CENTER, KEY, createSite, queueCount, runCli, spawnCli, waitFor, writeSiteConfig } from '../support/agent-harness.js';

describe('daemon, legacy protocol and check (built CLI, fixture schema)', () => {
  let db: TestDatabase;
  let receiver: CentralReceiver;
  let writer: Dcm4cheeWriter;

  beforeEach(async () => {
    db = await createSite('fixture', 'daemon');
    await db.conn.query("SET SESSION sql_mode = ''");
    receiver = await startCentralReceiver('daemon_legacy_check', { [CENTER]: KEY });
    writer = new Dcm4cheeWriter(db.conn);
  });
  afterEach(async () => {
    await receiver.close();
    await db.drop();
  });

  it('daemon runs passes on a seconds schedule and stops cleanly on SIGTERM', async () => {
    const p = await writer.createPatient({ patId: '1', name: 'A^B' });
    await writer.storeStudy(p);
    const { child, done } = spawnCli(['daemon'], writeSiteConfig(db, { url: receiver.url, schedule: '*/1 * * * * *' }));
    await waitFor(async () => (await receiver.held(CENTER)).size === 1, 'the first study');
    await writer.storeStudy(p);
    await waitFor(async () => (await receiver.held(CENTER)).size === 2, 'a study written while the daemon runs');
    child.kill('SIGTERM');
    const res = await done;
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain('daemon stopped');
    expect(await queueCount(db.conn)).toBe(0);
  });

  it('daemon stopped during a slow pass keeps its place; a later pass finishes', async () => {
    const p = await writer.createPatient({ patId: '1', name: 'A^B' });
    for (let i = 0; i < 40; i++) await writer.storeStudy(p);
    receiver.proxy.latencyMs = 150;
    const dir = writeSiteConfig(db, { url: receiver.url, schedule: '*/1 * * * * *', read_chunk: 5, batch_size: 5, max_in_flight: 1 });
    const { child, done } = spawnCli(['daemon'], dir);
    await waitFor(() => receiver.batches() >= 2, 'two batches');
    child.kill('SIGTERM');
    const res = await done;
    expect(res.code, res.stderr).toBe(0);
    expect(await queueCount(db.conn)).toBeGreaterThan(0);
    receiver.proxy.latencyMs = 0;
    expect((await runCli(['sync'], dir)).code).toBe(0);
    expect((await receiver.held(CENTER)).size).toBe(40);
  });

  it('sync stopped by SIGTERM mid-pass exits 130 with its place kept', async () => {
    const p = await writer.createPatient({ patId: '1', name: 'A^B' });
    for (let i = 0; i < 40; i++) await writer.storeStudy(p);
    receiver.proxy.latencyMs = 150;
    const dir = writeSiteConfig(db, { url: receiver.url, read_chunk: 5, batch_size: 5, max_in_flight: 1 });
    const { child, done } = spawnCli(['sync'], dir);
    await waitFor(() => receiver.batches() >= 2, 'two batches');
    child.kill('SIGTERM');
    const res = await done;
    expect(res.code).toBe(130);
    expect(res.stderr).toContain('sync pass interrupted');
    const left = await queueCount(db.conn);
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(40);
    receiver.proxy.latencyMs = 0;
    expect((await runCli(['sync'], dir)).code).toBe(0);
    expect((await receiver.held(CENTER)).size).toBe(40);
  });

  it('protocol legacy posts one legacy record per study to webservice_url with X-Api-Key', async () => {
    const p = await writer.createPatient({ patId: '12345678-5', name: 'MUÑOZ^JOSÉ' });
    const a = await writer.storeStudy(p, { datetime: '2015-03-22 00:53:17' });
    await writer.addSeries(a, { modality: 'CT', instances: 2 });
    await writer.storeStudy(p, { datetime: null });
    // The legacy client's config.json, unchanged, with only the protocol switched by env.
    const dir = writeSiteConfig(db);
    const o = db.options;
    writeFileSync(join(dir, 'config.json'), JSON.stringify({
      database: { host: o.host, port: String(o.port), user: o.user, password: o.password ?? '', name: db.name },
      key: KEY, webservice_url: receiver.legacyUrl,
    }));
    const res = await runCli(['sync'], dir, { INDEXER_PROTOCOL: 'legacy' });
    expect(res.code, res.stderr).toBe(0);
    const legacy = receiver.proxy.exchanges.filter((e) => e.method === LEGACY_POSTS.method && LEGACY_POSTS.path.test(e.path) && e.status === 201);
    expect(legacy).toHaveLength(2);
    const posted = legacy.map((e) => JSON.parse(e.request.toString('utf8')) as Record<string, unknown>);
    expect(posted.map((r) => r.study_datetime).sort()).toEqual(['2015-03-22 00:53:17', 'None']);
    expect(posted[0]).toMatchObject({ center: CENTER, patient_name: 'MUÑOZ^JOSÉ', patient_id: '12345678-5' });
    expect(Object.keys(posted[0]!).sort()).toEqual(['center', 'patient_id', 'patient_name', 'patient_pk', 'study_datetime',
      'study_description', 'study_instances', 'study_iuid', 'study_modality', 'study_pk', 'study_series'].sort());
  });

  it('protocol legacy with a wrong key fails (exit 5) instead of ignoring the answer', async () => {
    await writer.storeStudy(await writer.createPatient({ patId: '1', name: 'A^B' }));
    const res = await runCli(['sync'], writeSiteConfig(db, { protocol: 'legacy', webservice_url: receiver.legacyUrl, key: 'bad' }));
    expect(res.code).toBe(5);
    expect(await queueCount(db.conn)).toBe(1);
  });

  it('check: exit 0 and a readable report when all is well', async () => {
    const res = await runCli(['check'], writeSiteConfig(db, { url: receiver.url }));
    expect(res.code, res.stdout).toBe(0);
    expect(res.stdout).toMatch(/capture objects installed and current/);
    expect(res.stdout).toMatch(/queue backlog: 0 changes/);
    expect(res.stdout).toMatch(/accepts the key of centre 000/);
    expect(res.stdout).toMatch(/all is well/);
  });

  it('check: a wrong key fails (exit 5)', async () => {
    const res = await runCli(['check'], writeSiteConfig(db, { url: receiver.url, key: 'nope' }));
    expect(res.code).toBe(5);
    expect(res.stdout).toMatch(/FAIL .*refused the centre key/);
  });

  it('check: missing triggers and an unreachable receiver are both reported (exit 3)', async () => {
    await db.conn.query('DROP TRIGGER indexer_study_au');
    const url = receiver.url;
    await receiver.close();
    const res = await runCli(['check'], writeSiteConfig(db, { url }));
    expect(res.code).toBe(3);
    expect(res.stdout).toMatch(/FAIL +capture objects: triggers missing: indexer_study_au/);
    expect(res.stdout).toMatch(/FAIL +receiver .*unavailable/);
    // A missing trigger lost changes: check also says a reconcile is needed.
    expect(res.stdout).toMatch(/FAIL +changes may be missing at the receiver/);
    expect(res.stdout).toMatch(/3 problems found/);
    receiver = await startCentralReceiver('daemon_legacy_check_2', {});
  });

  it('check: an account missing privileges is reported with the GRANTs to run (exit 3)', async () => {
    const user = `ixchk_${db.name.slice(-8)}`;
    await db.conn.query(`CREATE USER '${user}'@'%' IDENTIFIED BY 'pw'`);
    try {
      for (const t of ['study', 'patient', 'study_service', 'indexer_state', 'indexer_dead_letter']) {
        await db.conn.query(`GRANT SELECT ON \`${db.name}\`.\`${t}\` TO '${user}'@'%'`);
      }
      const o = db.options;
      const res = await runCli(['check'], writeSiteConfig(db, { url: receiver.url, database: { host: o.host, port: o.port, user, password: 'pw', name: db.name } }));
      expect(res.code).toBe(3);
      // Without TRIGGER it cannot see (nor, as their definer, keep working) the triggers: a failure.
      expect(res.stdout).toMatch(/FAIL +cannot see the capture triggers on study and patient: .* lacks TRIGGER/);
      expect(res.stdout).toMatch(/FAIL +.*lacks SELECT, DELETE on study_service/);
      expect(res.stdout).toMatch(/GRANT SELECT, INSERT, UPDATE, DELETE ON `.*`\.`study_service`/);
    } finally {
      await db.conn.query(`DROP USER '${user}'@'%'`);
    }
  });

  it('check: an unreachable database fails (exit 3) without a stack trace', async () => {
    const res = await runCli(['check'], writeSiteConfig(db, { url: receiver.url, database: { host: '127.0.0.1', port: 1, user: 'x', name: 'y' } }));
    expect(res.code).toBe(3);
    expect(res.stdout).toMatch(/FAIL +database: cannot reach PACS database/);
  });
});
