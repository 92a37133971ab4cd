import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStateFile } from '../../../../src/agent/sources/orthanc/state-file.js';
import { runInitialLoad } from '../../../../src/agent/pipeline/initial-load.js';
import { runSyncPass } from '../../../../src/agent/pipeline/sync-pass.js';
import { startCentralReceiver, type CentralReceiver } from '../../../helpers/central-receiver.js';
import { startOrthanc, type OrthancServer } from '../../../helpers/orthanc.js';
import { loadStudies, makeStudySpecs, requireDicomTools } from './support/dicom-factory.js';
import {
  CENTER, KEY, clientFor, failingDelivery, openSource, orthancContent, passDeps, quietProgress, receiverContent, receiverDelivery,
} from './support/orthanc-harness.js';

/**
 * The agent stopped mid-pass (delivery fails after a few chunks): a new OrthancSource on the same
 * state file continues from the acknowledged position, and the receiver ends equal to Orthanc.
 */
describe('Orthanc source: restart mid-way (real Orthanc)', () => {
  let orthanc: OrthancServer;
  let receiver: CentralReceiver;
  let dir: string;
  let stateFile: string;
  const TOTAL = 20;

  beforeAll(async () => {
    requireDicomTools();
    dir = mkdtempSync(join(tmpdir(), 'orthanc-restart-'));
    stateFile = join(dir, 'indexer-state.json');
    orthanc = await startOrthanc();
    receiver = await startCentralReceiver('orthanc_restart', { [CENTER]: KEY });
    await loadStudies(orthanc, makeStudySpecs(TOTAL, 'R'), join(dir, 'dicom'));
    await orthanc.waitStable();
  });
  afterAll(async () => {
    await receiver?.close();
    await orthanc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('initial resumes after the last acknowledged chunk', async () => {
    const first = await openSource(clientFor(orthanc), stateFile);
    await expect(runInitialLoad(passDeps(first, failingDelivery(receiverDelivery(receiver), 2), 4), quietProgress, false))
      .rejects.toMatchObject({ code: 'RECEIVER_UNAVAILABLE' });
    await first.close();
    const stopped = await readStateFile(stateFile);
    expect(stopped.initial).toMatchObject({ done: false, walked: 8, total: TOTAL });
    expect(stopped.last_error).toMatchObject({ code: 'RECEIVER_UNAVAILABLE' });

    const second = await openSource(clientFor(orthanc), stateFile);
    const summary = await runInitialLoad(passDeps(second, receiverDelivery(receiver), 4), quietProgress, false);
    await second.close();
    expect(summary).toMatchObject({ ok: true, read: TOTAL - 8 });
    expect(await receiverContent(receiver)).toEqual(await orthancContent(orthanc));
    expect((await readStateFile(stateFile)).initial.done).toBe(true);
  });

  it('sync resumes after the last acknowledged change', async () => {
    const startSince = (await readStateFile(stateFile)).since;
    await loadStudies(orthanc, makeStudySpecs(6, 'S'), join(dir, 'dicom-s'));
    await orthanc.waitStable();
    const end = (await clientFor(orthanc).lastChange());

    // Ten changes a chunk: the new studies' changes span several chunks.
    const first = await openSource(clientFor(orthanc), stateFile);
    await expect(runSyncPass(passDeps(first, failingDelivery(receiverDelivery(receiver), 2), 10))).rejects.toMatchObject({ code: 'RECEIVER_UNAVAILABLE' });
    await first.close();
    const stopped = (await readStateFile(stateFile)).since;
    expect(stopped).toBeGreaterThan(startSince);
    expect(stopped).toBeLessThan(end);

    const second = await openSource(clientFor(orthanc), stateFile);
    const summary = await runSyncPass(passDeps(second, receiverDelivery(receiver), 10));
    await second.close();
    expect(summary.ok).toBe(true);
    expect(summary.read).toBe(end - stopped);
    expect(await receiverContent(receiver)).toEqual(await orthancContent(orthanc));
    expect((await receiverContent(receiver)).size).toBe(TOTAL + 6);
    expect((await readStateFile(stateFile)).since).toBe(end);
  });

  it('status reports the acknowledged position and the backlog', async () => {
    const source = await openSource(clientFor(orthanc), stateFile);
    const status = await source.status();
    await source.close();
    const state = await readStateFile(stateFile);
    expect(status).toMatchObject({ backlog: 0, last_ack_seq: state.since, version_high: state.version_high, dead_letters: 0 });
    expect(status.initial).toMatchObject({ done: true, total: TOTAL, start_seq: state.initial.start_seq });
    expect(status.last_run).toMatchObject({ command: 'sync', ok: true });
  });
});
