import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOrthanc, type OrthancServer } from '../../../helpers/orthanc.js';
import { receiverRecords } from '../../../faults/support/receiver-content.js';
import { addCenter, addToken, startReceiver, type Receiver } from '../../../helpers/receiver-harness.js';
import { runCli } from '../../support/agent-harness.js';
import { reconcileReport } from '../../reconcile/support/reconcile-site.js';
import { loadStudies, makeStudySpecs, requireDicomTools } from './support/dicom-factory.js';
import { CENTER, KEY, orthancContent, type Projected } from './support/orthanc-harness.js';

/**
 * `indexer reconcile` with `source: orthanc` (built CLI, real Orthanc, the real receiver
 * in-process): drift no change feed shows — changes the agent never read, a deletion its study
 * index forgot, Orthanc's change log restarting — is found day by day and repaired.
 */
describe('indexer reconcile with source orthanc (built CLI, real Orthanc, real receiver)', { timeout: 180_000 }, () => {
  let orthanc: OrthancServer;
  let receiver: Receiver;
  let token: string;
  let dir: string;
  let stateFile: string;

  const state = (): Record<string, unknown> & { since: number } => JSON.parse(readFileSync(stateFile, 'utf8'));
  const writeState = (s: Record<string, unknown>): void => writeFileSync(stateFile, JSON.stringify(s));
  /** The agent never reads the changes made until now (a lost feed). */
  const skipFeed = async () => writeState({ ...state(), since: (await orthanc.rest<{ Last: number }>('GET', '/changes?last')).Last });

  async function held(): Promise<Map<string, Record<string, unknown>>> {
    return (await receiverRecords(receiver.base, token, CENTER)).records;
  }

  async function expectReceiverEqualsOrthanc(): Promise<void> {
    const live = new Map<string, Projected>();
    for (const [iuid, r] of await held()) {
      if (r.deleted) continue;
      live.set(iuid, {
        patient_id: r.patient_id as string | null, patient_name: r.patient_name as string | null,
        study_description: r.study_description as string | null, study_series: r.study_series as number,
        study_instances: r.study_instances as number, modalities: [...(r.modalities as string[])].sort(),
      });
    }
    expect(live).toEqual(await orthancContent(orthanc));
  }

  async function reconcile(...flags: string[]): Promise<Record<string, unknown>> {
    const res = await runCli(['reconcile', ...flags], dir);
    expect(res.code, res.stderr).toBe(0);
    return reconcileReport(res.stderr, flags.includes('--dry-run') ? 'reconcile dry run finished' : 'reconcile finished');
  }

  beforeAll(async () => {
    requireDicomTools();
    dir = mkdtempSync(join(tmpdir(), 'orthanc-reconcile-'));
    stateFile = join(dir, 'indexer-state.json');
    orthanc = await startOrthanc();
    receiver = await startReceiver('orthanc_reconcile');
    await addCenter(receiver.store, CENTER, KEY);
    token = await addToken(receiver.store, 'orthanc-reconcile');
    // Dated, undated and impossible dates over several days (dicom-factory's mix).
    await loadStudies(orthanc, makeStudySpecs(14, 'RC'), join(dir, 'dicom'));
    await orthanc.waitStable();
    writeFileSync(join(dir, 'config.json'), JSON.stringify({
      source: 'orthanc', url: receiver.base, key: KEY, center: CENTER, read_chunk: 4,
      orthanc: { url: orthanc.url, state_file: stateFile },
      http: { retries: 1, min_backoff_ms: 5, max_backoff_ms: 20 }, log: { format: 'json' },
    }));
    const initial = await runCli(['initial'], dir);
    expect(initial.code, initial.stderr).toBe(0);
    await expectReceiverEqualsOrthanc();
  });
  afterAll(async () => {
    await receiver?.close();
    await orthanc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('with nothing drifted, compares every day, finds no difference and sends nothing', async () => {
    const report = await reconcile();
    expect(report).toMatchObject({ ok: true, days_differing: 0, missing: 0, different: 0, extra: 0, resent: 0, tombstones: 0, source_studies: 14, receiver_studies: 14 });
    expect(Number(report.days_compared)).toBeGreaterThan(3);
  });

  it('changes the feed never delivered and a deletion the index forgot: --dry-run reports them, reconcile repairs them', async () => {
    const ids = (await orthanc.rest<string[]>('GET', '/studies')).sort();
    await loadStudies(orthanc, makeStudySpecs(3, 'NEW'), join(dir, 'dicom-new'));
    const grown = await orthanc.rest<{ MainDicomTags: Record<string, string>; PatientMainDicomTags: Record<string, string> }>('GET', `/studies/${ids[0]}`);
    const spec = { ...makeStudySpecs(1, 'X')[0]!, studyIuid: grown.MainDicomTags.StudyInstanceUID!, patientId: grown.PatientMainDicomTags.PatientID!,
      studyDate: grown.MainDicomTags.StudyDate ?? null, series: [{ modality: 'US', instances: 1 }] };
    await loadStudies(orthanc, [spec], join(dir, 'dicom-grown'));
    // Deleted, and the study index that would have sent its tombstone lost (a restored state folder).
    await orthanc.rest('DELETE', `/studies/${ids[1]}`);
    rmSync(`${stateFile}.studies.jsonl`);
    await orthanc.waitStable();
    await skipFeed();
    expect((await runCli(['sync'], dir)).code).toBe(0);
    await expect(expectReceiverEqualsOrthanc()).rejects.toThrow();

    const before = JSON.stringify([...(await held())]);
    const dry = await reconcile('--dry-run');
    expect(dry).toMatchObject({ dry_run: true, missing: 3, different: 1, extra: 1, resent: 0, tombstones: 0 });
    expect(JSON.stringify([...(await held())])).toBe(before);

    const report = await reconcile();
    expect(report).toMatchObject({ dry_run: false, missing: 3, different: 1, extra: 1, resent: 4, tombstones: 1, stale: 0, rejected: 0 });
    await expectReceiverEqualsOrthanc();
    expect((await reconcile('--dry-run'))).toMatchObject({ days_differing: 0 });
  });

  it('a study reconcile sent and Orthanc then deletes reaches the receiver as a tombstone through sync', async () => {
    const newest = [...(await held())].find(([, r]) => String(r.patient_id).startsWith('NEW-'))!;
    const [id] = await orthanc.rest<{ ID: string }[]>('POST', '/tools/lookup', newest[0]).then((r) => r.map((x) => x.ID));
    await orthanc.rest('DELETE', `/studies/${id}`);
    expect((await runCli(['sync'], dir)).code).toBe(0);
    expect((await held()).get(newest[0])?.deleted).toBe(true);
    await expectReceiverEqualsOrthanc();
  });

  it('Orthanc\'s change log restarted below the acknowledged position: sync refuses (exit 3), reconcile repairs and adopts it', async () => {
    writeState({ ...state(), since: 1_000_000 });
    await loadStudies(orthanc, makeStudySpecs(2, 'RST'), join(dir, 'dicom-reset'));
    await orthanc.waitStable();
    const refused = await runCli(['sync'], dir);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('"code":"CHANGE_LOG_RESET"');
    expect(refused.stderr).toContain('run `indexer reconcile`');
    const report = await reconcile();
    expect(report).toMatchObject({ missing: 2, stale: 0 });
    await expectReceiverEqualsOrthanc();
    expect(state().since).toBeLessThan(1_000_000);
    const sync = await runCli(['sync'], dir);
    expect(sync.code, sync.stderr).toBe(0);
  });

  it('status shows the last reconcile; the legacy protocol is refused (exit 2)', async () => {
    const status = await runCli(['status'], dir);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ source: 'orthanc', last_reconcile: { command: 'reconcile', ok: true, dry_run: false } });
    const legacy = await runCli(['reconcile'], dir, { INDEXER_PROTOCOL: 'legacy' });
    expect(legacy.code).toBe(2);
  });
});
