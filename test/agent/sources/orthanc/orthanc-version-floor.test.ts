import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReceiverClient } from '../../../../src/agent/delivery/receiver-client.js';
import { readStateFile } from '../../../../src/agent/sources/orthanc/state-file.js';
import { runInitialLoad } from '../../../../src/agent/pipeline/initial-load.js';
import { runSyncPass } from '../../../../src/agent/pipeline/sync-pass.js';
import { startOrthanc, type OrthancServer } from '../../../helpers/orthanc.js';
import { receiverRecords } from '../../../faults/support/receiver-content.js';
import { addCenter, addToken, startReceiver, type Receiver } from '../../../helpers/receiver-harness.js';
import { loadStudies, makeStudySpecs, requireDicomTools, type StudySpec } from './support/dicom-factory.js';
import { CENTER, KEY, clientFor, openSource, orthancContent, passDeps, quietProgress, silentLog, type Projected } from './support/orthanc-harness.js';

/**
 * The Orthanc state file deleted (or lost with its host): the next pass starts from change 0 and
 * a fresh version_high, yet its versions stay above what the real receiver holds, so a study
 * changed since and a study deleted since are not dropped as "stale".
 */
describe('Orthanc: versions above the receiver after the state file is deleted (real Orthanc, real receiver)', { timeout: 120_000 }, () => {
  let orthanc: OrthancServer;
  let receiver: Receiver;
  let token: string;
  let dir: string;
  let stateFile: string;
  const specs: StudySpec[] = makeStudySpecs(10, 'VF');

  const delivery = () => createReceiverClient({
    url: receiver.base, center: CENTER, key: KEY, batch_size: 5, max_in_flight: 1,
    http: { timeout_ms: 5000, deadline_ms: 30_000, max_response_bytes: 1 << 24, retries: 1, min_backoff_ms: 5, max_backoff_ms: 20, ca_file: null },
  }, silentLog);

  /** One pass with a new source on the state file, as a cron run would. */
  async function pass(kind: 'initial' | 'sync', readChunk: number): Promise<void> {
    const source = await openSource(clientFor(orthanc), stateFile);
    const d = delivery();
    try {
      const summary = kind === 'initial'
        ? await runInitialLoad(passDeps(source, d, readChunk), quietProgress, true)
        : await runSyncPass(passDeps(source, d, readChunk));
      expect(summary.ok).toBe(true);
    } finally {
      await d.close();
      await source.close();
    }
  }

  async function expectReceiverEqualsOrthanc(deleted: readonly string[]): Promise<void> {
    const { records } = await receiverRecords(receiver.base, token, CENTER);
    const live = new Map<string, Projected>();
    for (const [iuid, r] of records) {
      if (r.deleted) continue;
      live.set(iuid, {
        patient_id: r.patient_id as string | null, patient_name: r.patient_name as string | null,
        study_description: r.study_description as string | null, study_series: r.study_series as number,
        study_instances: r.study_instances as number, modalities: [...(r.modalities as string[])].sort(),
      });
    }
    expect(live).toEqual(await orthancContent(orthanc));
    for (const iuid of deleted) expect(records.get(iuid)?.deleted, iuid).toBe(true);
  }

  /** The studies in the order the initial walk sends them (sorted Orthanc IDs): the last get the highest versions. */
  async function walkOrder(): Promise<{ id: string; iuid: string }[]> {
    const ids = (await orthanc.rest<string[]>('GET', '/studies')).sort();
    const out = [];
    for (const id of ids) out.push({ id, iuid: (await orthanc.rest<{ MainDicomTags: { StudyInstanceUID: string } }>('GET', `/studies/${id}`)).MainDicomTags.StudyInstanceUID });
    return out;
  }

  beforeAll(async () => {
    requireDicomTools();
    dir = mkdtempSync(join(tmpdir(), 'orthanc-vfloor-'));
    stateFile = join(dir, 'indexer-state.json');
    orthanc = await startOrthanc();
    receiver = await startReceiver('orthanc_vfloor');
    await addCenter(receiver.store, CENTER, KEY);
    token = await addToken(receiver.store, 'vfloor');
    await loadStudies(orthanc, specs, join(dir, 'dicom'));
    await orthanc.waitStable();
  });
  afterAll(async () => {
    await receiver?.close();
    await orthanc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('state file deleted, a study grown and another deleted, then sync: the receiver equals Orthanc', async () => {
    // One study per chunk: the walk's versions climb one by one above the change log's end.
    await pass('initial', 1);
    await expectReceiverEqualsOrthanc([]);
    const order = await walkOrder();
    const grown = order[order.length - 1]!;
    const gone = order[order.length - 2]!;
    rmSync(stateFile);
    const spec = specs.find((s) => s.studyIuid === grown.iuid)!;
    await loadStudies(orthanc, [{ ...spec, series: [{ modality: 'CT', instances: 1 }] }], join(dir, 'dicom-more'));
    await orthanc.rest('DELETE', `/studies/${gone.id}`);
    await orthanc.waitStable();
    await pass('sync', 50);
    await expectReceiverEqualsOrthanc([gone.iuid]);
  });

  it('state file deleted again, then initial: versions still above the receiver', async () => {
    const before = (await readStateFile(stateFile)).version_high;
    rmSync(stateFile);
    const order = await walkOrder();
    const first = order[0]!;
    const spec = specs.find((s) => s.studyIuid === first.iuid)!;
    await loadStudies(orthanc, [{ ...spec, series: [{ modality: 'MR', instances: 1 }] }], join(dir, 'dicom-again'));
    await orthanc.waitStable();
    await pass('initial', 3);
    await expectReceiverEqualsOrthanc([]);
    expect((await readStateFile(stateFile)).version_high).toBeGreaterThan(before);
  });
});
