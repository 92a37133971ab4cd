import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectCapture } from '../../src/agent/sources/dcm4chee/capture-objects.js';
import { Dcm4cheeWriter } from '../helpers/dcm4chee-writer.js';
import { CORRUPTED_REASON, startCentralReceiver, type CentralReceiver } from '../helpers/central-receiver.js';
import type { TestDatabase } from '../helpers/mysql.js';
import { CENTER, KEY, REPO_ROOT, createSite, queueCount, runCli, writeSiteConfig } from './support/agent-harness.js';

/**
 * The built `indexer` as an operator runs it: every command accepts only its own options (one
 * command's flag given to another is refused, exit 2, before anything is touched), help per
 * command, --version; `queue` and `dead-letters` against a real pacsdb and the real receiver.
 */
describe('indexer command line (built CLI, real pacsdb)', () => {
  let db: TestDatabase;
  let receiver: CentralReceiver;
  let dir: string;
  let writer: Dcm4cheeWriter;
  const PATIENT = { patId: 'RUT-11.222.333-K', name: 'ZAPATA^ELVIRA', birthdate: '19610203' };

  beforeAll(async () => {
    db = await createSite('fixture', 'agent_cli');
    receiver = await startCentralReceiver('cli', { [CENTER]: KEY });
    dir = writeSiteConfig(db, { url: receiver.url });
    writer = new Dcm4cheeWriter(db.conn);
  });
  afterAll(async () => {
    await receiver?.close();
    await db?.drop();
  });

  it('uninstall --print is refused (exit 2, naming the option and the command) and removes nothing', async () => {
    const r = await runCli(['uninstall', '--print'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('uninstall does not accept --print');
    expect(r.stderr).toContain('indexer help uninstall');
    expect(await inspectCapture(db.conn, db.name)).toMatchObject({ current: true, queue: 'new', stateTable: true, deadLetterTable: true });
  });

  it('sync --dry-run (and `indexer --dry-run`) is refused and sends nothing', async () => {
    const patient = await writer.createPatient(PATIENT);
    await writer.storeStudy(patient, { desc: 'CLI TEST' });
    const queued = await queueCount(db.conn);
    expect(queued).toBeGreaterThan(0);
    for (const args of [['sync', '--dry-run'], ['--dry-run']]) {
      const r = await runCli(args, dir);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain('sync does not accept --dry-run');
    }
    expect(await queueCount(db.conn)).toBe(queued);
    expect(receiver.batches()).toBe(0);
  });

  it("refuses an unknown option, or another command's, for every command", async () => {
    const cases: [string[], string][] = [
      [['install', '--restart'], 'install does not accept --restart'],
      [['initial', '--print'], 'initial does not accept --print'],
      [['daemon', '--dry-run'], 'daemon does not accept --dry-run'],
      [['check', '--bogus'], 'check does not accept --bogus'],
      [['status', '--url', 'http://x'], 'status does not accept --url'],
      [['reconcile', '--restart'], 'reconcile does not accept --restart'],
      [['config', '--print'], 'config does not accept --print'],
      [['queue', '--all'], 'queue does not accept --all'],
      [['dead-letters', '--restart'], 'dead-letters does not accept --restart'],
      [['dead-letters', 'list', '--yes'], 'dead-letters list does not accept --yes'],
      [['sync', 'now'], 'sync takes no operands'],
      [['frobnicate'], 'unknown command "frobnicate"'],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args, dir);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toContain(message);
    }
  });

  it('help per command, general help and --version', async () => {
    const help = await runCli(['help', 'sync'], dir);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: indexer sync [options]');
    expect(help.stdout).toContain('--batch-size N');
    expect(help.stdout).not.toContain('--print');
    expect((await runCli(['sync', '--help'], dir)).stdout).toBe(help.stdout);
    expect((await runCli(['help', 'install'], dir)).stdout).toContain('--print');
    const general = await runCli(['--help'], dir);
    expect(general.code).toBe(0);
    for (const c of ['install', 'queue', 'dead-letters', 'reconcile']) expect(general.stdout).toContain(`  ${c} `);
    expect((await runCli(['help', 'bogus'], dir)).code).toBe(2);
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(await runCli(['--version'], dir)).toMatchObject({ code: 0, stdout: `indexer ${pkg.version}\n` });
  });

  it('a receiver URL with an unencoded "#" says to percent-encode it, without showing the password', async () => {
    const r = await runCli(['config'], dir, { INDEXER_URL: 'https://agent:s3cr#t@index.example.org' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('key "url"');
    expect(r.stderr).toContain('percent-encode "#" as %23');
    expect(r.stderr).not.toContain('s3cr');
    const orthanc = await runCli(['config'], dir, { INDEXER_ORTHANC_URL: 'http://login:12#34@127.0.0.1:8042' });
    expect(orthanc.code).toBe(2);
    expect(orthanc.stderr).toContain('key "orthanc.url"');
    expect(orthanc.stderr).not.toContain('12#34');
  });

  it('queue: counts by kind, oldest first, the oldest age, no patient data', async () => {
    const patient = await writer.createPatient({ ...PATIENT, patId: 'RUT-44.555.666-7' });
    const kept = await writer.storeStudy(patient, { desc: 'QUEUE KEPT' });
    const gone = await writer.storeStudy(patient, { desc: 'QUEUE GONE' });
    const [iuidRow] = await db.conn.query<import('mysql2').RowDataPacket[]>('SELECT study_iuid FROM study WHERE pk = ?', [gone]);
    const goneIuid = String(iuidRow[0]!.study_iuid);
    await writer.updateStudy(kept, { desc: 'QUEUE KEPT 2' });
    await writer.deleteStudy(gone);
    await db.conn.query('UPDATE study_service SET queued_at = NOW() - INTERVAL 2 HOUR WHERE seq = (SELECT s FROM (SELECT MIN(seq) AS s FROM study_service WHERE seq > 0) m)');
    const r = await runCli(['queue'], dir);
    expect(r.code, r.stderr).toBe(0);
    const q = JSON.parse(r.stdout) as { total: number; by_kind: Record<string, number>; oldest_age_s: number; entries: { seq: number; op: string; study_pk: number; study_iuid: string | null }[] };
    expect(q.total).toBe(await queueCount(db.conn));
    expect(q.by_kind.I).toBeGreaterThanOrEqual(2);
    expect(q.by_kind.U).toBeGreaterThanOrEqual(1);
    expect(q.by_kind.D).toBe(1);
    expect(q.by_kind.I! + q.by_kind.U! + q.by_kind.D!).toBe(q.total);
    expect(q.oldest_age_s).toBeGreaterThanOrEqual(7190);
    const seqs = q.entries.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(q.entries.find((e) => e.op === 'D')).toMatchObject({ study_pk: gone, study_iuid: goneIuid });
    for (const secret of ['ZAPATA', 'ELVIRA', 'RUT-', '19610203']) expect(r.stdout).not.toContain(secret);
    const one = JSON.parse((await runCli(['queue', '--limit', '1'], dir)).stdout) as { total: number; entries: unknown[] };
    expect(one).toMatchObject({ total: q.total });
    expect(one.entries).toHaveLength(1);
    expect((await runCli(['queue', '--limit', 'many'], dir)).code).toBe(2);
  });

  it('dead-letters: list (no record unless asked), retry keeps a refused one, removes it once acknowledged, discard', async () => {
    const patient = await writer.createPatient({ ...PATIENT, patId: 'RUT-77.888.999-0' });
    const pk = await writer.storeStudy(patient, { desc: 'POISON' });
    const [rows] = await db.conn.query<import('mysql2').RowDataPacket[]>('SELECT study_iuid FROM study WHERE pk = ?', [pk]);
    const iuid = String(rows[0]!.study_iuid);
    receiver.proxy.corruptIuids.add(iuid);
    expect((await runCli(['sync'], dir)).code).toBe(0);
    const list = async (...extra: string[]) => JSON.parse((await runCli(['dead-letters', ...extra], dir)).stdout) as { total: number; entries: Record<string, unknown>[] };
    const before = await list();
    expect(before.total).toBe(1);
    expect(before.entries[0]).toMatchObject({ study_iuid: iuid, reason: CORRUPTED_REASON });
    expect(before.entries[0]).not.toHaveProperty('record');
    expect(JSON.stringify(before)).not.toContain('ZAPATA');
    const withRecord = await list('list', '--with-record');
    expect(withRecord.entries[0]!.record).toMatchObject({ study_iuid: iuid, patient_name: 'ZAPATA^ELVIRA' });
    const id = Number(before.entries[0]!.id);

    const refused = await runCli(['dead-letters', 'retry'], dir);
    expect(refused.code, refused.stderr).toBe(0);
    expect(refused.stdout).toContain('0 acknowledged and removed, 1 refused again');
    expect((await list()).total).toBe(1);

    receiver.proxy.corruptIuids.delete(iuid);
    expect((await receiver.held(CENTER)).has(iuid)).toBe(false);
    const retried = await runCli(['dead-letters', 'retry', String(id)], dir);
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.stdout).toContain('1 acknowledged and removed');
    expect((await receiver.held(CENTER)).get(iuid)).toMatchObject({ study_iuid: iuid, study_description: 'POISON' });
    expect((await list()).total).toBe(0);

    receiver.proxy.corruptIuids.add(iuid);
    await writer.updateStudy(pk, { desc: 'POISON AGAIN' });
    expect((await runCli(['sync'], dir)).code).toBe(0);
    const again = await list();
    expect(again.total).toBe(1);
    expect(await runCli(['dead-letters', 'discard', '--all'], dir)).toMatchObject({ code: 2, stderr: expect.stringContaining('--yes') });
    expect(await runCli(['dead-letters', 'discard', '987654'], dir)).toMatchObject({ code: 2, stderr: expect.stringContaining('no dead letter with id 987654') });
    expect((await list()).total).toBe(1);
    expect((await runCli(['dead-letters', 'discard', String(again.entries[0]!.id)], dir)).stdout).toContain('discarded 1 dead letter');
    expect((await list()).total).toBe(0);
  });
});

/** The Orthanc source keeps dead letters in a JSON-lines file beside its state file, and has no queue. */
describe('indexer queue / dead-letters with the Orthanc source (built CLI)', () => {
  let receiver: CentralReceiver;
  let dir: string;
  const record = (iuid: string, seq: number) => ({
    center: CENTER, study_iuid: iuid, source_seq: seq, deleted: false, patient_id: 'P-1', patient_name: 'ROJAS^ANA',
  });
  const env = () => ({ INDEXER_SOURCE: 'orthanc', INDEXER_ORTHANC_URL: 'http://127.0.0.1:9', INDEXER_CENTER: CENTER, INDEXER_KEY: KEY, INDEXER_URL: receiver.url, INDEXER_LOG_LEVEL: 'warn' });

  beforeAll(async () => {
    receiver = await startCentralReceiver('cli_orthanc', { [CENTER]: KEY });
    dir = mkdtempSync(join(tmpdir(), 'indexer-orthanc-dl-'));
    const lines = [record('1.2.3.1', 5), record('1.2.3.2', 6), record('1.2.3.3', 7)].map((r) => JSON.stringify({ at: '2025-01-02T03:04:05Z', study_iuid: r.study_iuid, source_seq: r.source_seq, reason: 'invalid record', record: r }));
    writeFileSync(join(dir, 'indexer-state.json.dead-letters.jsonl'), `${lines.join('\n')}\n`);
  });
  afterAll(async () => {
    await receiver?.close();
  });

  it('queue: "not supported by this source", exit 2', async () => {
    const r = await runCli(['queue'], dir, env());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is not supported by this source (source is "orthanc")');
  });

  it('list, retry two (one acknowledged: removed, one refused: kept), discard one; ids are line numbers, renumbered after a change', async () => {
    const list = async () => JSON.parse((await runCli(['dead-letters'], dir, env())).stdout) as { total: number; entries: { id: number; study_iuid: string }[] };
    expect((await list()).entries.map((e) => [e.id, e.study_iuid])).toEqual([[1, '1.2.3.1'], [2, '1.2.3.2'], [3, '1.2.3.3']]);
    receiver.proxy.corruptIuids.add('1.2.3.1');
    const retried = await runCli(['dead-letters', 'retry', '1', '2'], dir, env());
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.stdout).toContain('1 acknowledged and removed, 1 refused again');
    expect((await receiver.held(CENTER)).has('1.2.3.2')).toBe(true);
    expect((await list()).entries.map((e) => e.study_iuid)).toEqual(['1.2.3.1', '1.2.3.3']);
    expect((await runCli(['dead-letters', 'discard', '2'], dir, env())).stdout).toContain('discarded 1 dead letter');
    expect((await list()).entries.map((e) => [e.id, e.study_iuid])).toEqual([[1, '1.2.3.1']]);
    expect(readFileSync(join(dir, 'indexer-state.json.dead-letters.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1);
  });
});
