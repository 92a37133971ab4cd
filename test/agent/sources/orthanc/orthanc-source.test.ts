import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStateFile } from '../../../../src/agent/sources/orthanc/state-file.js';
import { runInitialLoad } from '../../../../src/agent/pipeline/initial-load.js';
import { runSyncPass } from '../../../../src/agent/pipeline/sync-pass.js';
import { startCentralReceiver, type CentralReceiver } from '../../../helpers/central-receiver.js';
import { startOrthanc, type OrthancServer } from '../../../helpers/orthanc.js';
import { loadStudies, makeStudySpecs, requireDicomTools, storeFiles, uploadFiles, writeStudyFiles, type StudySpec } from './support/dicom-factory.js';
import {
  CENTER, KEY, clientFor, openSource, orthancContent, passDeps, quietProgress, receiverContent, receiverDelivery, recordOf,
} from './support/orthanc-harness.js';

/** The Orthanc source through the real pipeline, against a real Orthanc and the real receiver. */
describe('Orthanc source: initial, new studies, deletions (real Orthanc)', () => {
  let orthanc: OrthancServer;
  let receiver: CentralReceiver;
  let dir: string;
  let stateFile: string;
  let specs: StudySpec[];

  const orthancIdOf = async (iuid: string, patientId?: string): Promise<string> => {
    const found = await orthanc.rest<{ ID: string; Type: string }[]>('POST', '/tools/lookup', iuid);
    for (const f of found.filter((x) => x.Type === 'Study')) {
      const s = await orthanc.rest<{ PatientMainDicomTags: { PatientID?: string } }>('GET', `/studies/${f.ID}`);
      if (patientId === undefined || s.PatientMainDicomTags.PatientID === patientId) return f.ID;
    }
    throw new Error('study not found in Orthanc');
  };
  const sync = async () => {
    const source = await openSource(clientFor(orthanc), stateFile);
    try {
      return await runSyncPass(passDeps(source, receiverDelivery(receiver), 10));
    } finally {
      await source.close();
    }
  };
  const expectReceiverEqualsOrthanc = async () => {
    expect(await receiverContent(receiver)).toEqual(await orthancContent(orthanc));
  };

  beforeAll(async () => {
    requireDicomTools();
    dir = mkdtempSync(join(tmpdir(), 'orthanc-source-'));
    stateFile = join(dir, 'state', 'indexer-state.json');
    orthanc = await startOrthanc({ dicom: true });
    receiver = await startCentralReceiver('orthanc_source', { [CENTER]: KEY });
    specs = makeStudySpecs(24, 'A');
    await loadStudies(orthanc, specs, join(dir, 'dicom'));
    await orthanc.waitStable();
  });
  afterAll(async () => {
    await receiver?.close();
    await orthanc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('initial load sends every study, messy values mapped', async () => {
    const source = await openSource(clientFor(orthanc), stateFile);
    const summary = await runInitialLoad(passDeps(source, receiverDelivery(receiver), 5), quietProgress, false);
    await source.close();
    expect(summary).toMatchObject({ ok: true, read: 24, sent: 24, rejected: 0 });
    await expectReceiverEqualsOrthanc();
    expect((await receiverContent(receiver)).size).toBe(24);

    const byIuid = await receiver.held(CENTER);
    const first = byIuid.get(specs[0]!.studyIuid)!;
    expect(first).toMatchObject({
      patient_id: 'A-0000', patient_name: 'Muñoz^José', study_datetime: '2024-01-15T10:15:30', study_pk: null, patient_pk: null,
      study_modality: 'CT', study_series: 1, study_instances: 2, accession_no: 'ACCA0', deleted: false,
    });
    expect(byIuid.get(specs[2]!.studyIuid)).toMatchObject({ study_datetime: null, study_modality: 'CT\\SR', modalities: ['CT', 'SR'], study_description: null });
    expect(byIuid.get(specs[3]!.studyIuid)).toMatchObject({ patient_birthdate: null, study_datetime: null });
    expect(byIuid.get(specs[4]!.studyIuid)).toMatchObject({ study_datetime: '2001-05-06T08:45:00', accession_no: null });
    expect(byIuid.get(specs[5]!.studyIuid)).toMatchObject({ patient_name: null, study_datetime: '2020-02-29T00:00:00' });
    expect(summary.invalid.invalid_study_datetime).toBe(4);

    const state = await readStateFile(stateFile);
    expect(state.initial.done).toBe(true);
    expect(state.since).toBe(state.initial.start_seq);
    const versions = [...byIuid.values()].map((r) => r.source_seq);
    expect(new Set(versions).size).toBe(5); // one version per chunk of 5
    expect(Math.min(...versions)).toBeGreaterThanOrEqual(state.initial.start_seq!);
  });

  it('sync sends new studies (REST and DICOM C-STORE) and a grown study, with higher versions', async () => {
    const before = await receiver.held(CENTER);
    const highest = Math.max(...[...before.values()].map((r) => r.source_seq));
    const fresh = makeStudySpecs(2, 'B');
    await uploadFiles(orthanc, writeStudyFiles(fresh[0]!, join(dir, 'dicom', 'B0')));
    storeFiles(orthanc, writeStudyFiles(fresh[1]!, join(dir, 'dicom', 'B1')));
    const grown: StudySpec = { ...specs[0]!, series: [{ modality: 'MR', instances: 2 }] };
    await uploadFiles(orthanc, writeStudyFiles(grown, join(dir, 'dicom', 'A0-more')));
    await orthanc.waitStable();

    const storedBefore = receiver.answered('stored');
    const summary = await sync();
    expect(summary).toMatchObject({ ok: true, tombstones: 0 });
    expect(receiver.answered('stored') - storedBefore).toBe(3);
    await expectReceiverEqualsOrthanc();
    expect(await recordOf(receiver, specs[0]!.studyIuid)).toMatchObject({ study_modality: 'CT\\MR', study_series: 2, study_instances: 4 });
    expect(await recordOf(receiver, fresh[1]!.studyIuid)).toMatchObject({ patient_id: 'B-0001', study_instances: 3 });
    expect((await recordOf(receiver, specs[0]!.studyIuid))!.source_seq).toBeGreaterThan(highest);
    expect((await recordOf(receiver, specs[7]!.studyIuid))!.source_seq).toBe(before.get(specs[7]!.studyIuid)!.source_seq);

    expect((await sync()).sent).toBe(0); // nothing changed since
  });

  it('a deleted study becomes a tombstone, sent once', async () => {
    const victim = specs[1]!;
    const previous = (await recordOf(receiver, victim.studyIuid))!.source_seq;
    await orthanc.rest('DELETE', `/studies/${await orthancIdOf(victim.studyIuid)}`);

    const summary = await sync();
    expect(summary).toMatchObject({ ok: true, tombstones: 1 });
    const tomb = (await recordOf(receiver, victim.studyIuid))!;
    expect(tomb).toMatchObject({ deleted: true, study_iuid: victim.studyIuid, patient_id: null });
    expect(tomb.source_seq).toBeGreaterThan(previous);
    await expectReceiverEqualsOrthanc();
    expect(await sync()).toMatchObject({ sent: 0, tombstones: 0 });
  });

  it('a UID still held under another patient ID stays live when one copy is deleted', async () => {
    const shared = specs[2]!;
    const copy: StudySpec = { ...shared, patientId: 'A-0002-OTHER', series: [{ modality: 'US', instances: 1 }] };
    await uploadFiles(orthanc, writeStudyFiles(copy, join(dir, 'dicom', 'A2-copy')));
    await orthanc.waitStable();
    await sync();
    await orthanc.rest('DELETE', `/studies/${await orthancIdOf(shared.studyIuid, shared.patientId)}`);

    expect(await sync()).toMatchObject({ ok: true, tombstones: 0 });
    expect(await recordOf(receiver, shared.studyIuid)).toMatchObject({ deleted: false, patient_id: 'A-0002-OTHER', study_modality: 'US' });
    await expectReceiverEqualsOrthanc();
  });
});
