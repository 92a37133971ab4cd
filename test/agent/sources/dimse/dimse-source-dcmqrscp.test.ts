import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCentralReceiver, type CentralReceiver } from '../../../helpers/central-receiver.js';
import { runCli } from '../../support/agent-harness.js';
import { startDcmqrscp, type Dcmqrscp } from './support/dcmqrscp.js';
import { requireDicomTools, studySpec, writeStudyFiles, type StudySpec } from './support/dicom-files.js';
import { CENTER, daysAgo, KEY, pacsContent, receiverContent, storedRows, writeDimseConfig } from './support/dimse-site.js';

/**
 * `source: dimse` through the built CLI against DCMTK's dcmqrscp, a PACS whose study-level
 * C-FIND answers carry neither ModalitiesInStudy nor the study-related counts: the receiver holds
 * those studies with null counts (not 0) and no modalities, and a later pass, comparing days with
 * the receiver, finds them unchanged (null equals null) instead of sending them again.
 */
describe('indexer with source dimse against dcmqrscp (no counts, no modalities)', { timeout: 120_000 }, () => {
  let pacs: Dcmqrscp;
  let receiver: CentralReceiver;
  let dir: string;
  const specs: StudySpec[] = [
    studySpec({ patientId: 'Q-1', patientName: 'MUÑOZ^JOSÉ', studyDate: daysAgo(0), studyTime: '081500', charset: 'ISO_IR 100',
      series: [{ modality: 'CT', instances: 2 }, { modality: 'MR', instances: 1 }] }),
    studySpec({ patientId: 'Q-2', patientName: 'PLAIN^ASCII', studyDate: daysAgo(2), studyTime: '120000', series: [{ modality: 'MR', instances: 1 }] }),
    studySpec({ patientId: 'Q-3', patientName: 'OLD^ONE', studyDate: daysAgo(200), studyTime: '235900' }),
  ];
  const store = (spec: StudySpec): Promise<void> => pacs.store(writeStudyFiles(spec, join(dir, 'dicom', spec.patientId)));
  const cli = async (cmd: string): Promise<void> => {
    const r = await runCli([cmd], dir);
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
  };
  const sent = (): number => receiver.batchSizes().reduce((a, b) => a + b, 0);

  beforeAll(async () => {
    requireDicomTools();
    dir = mkdtempSync(join(tmpdir(), 'dimse-source-qr-'));
    pacs = await startDcmqrscp({ aet: 'QRPACS' });
    receiver = await startCentralReceiver('dimse_src_qr', { [CENTER]: KEY });
    for (const s of specs) await store(s);
    writeDimseConfig(dir, receiver.url, { port: pacs.port, aet: pacs.aet });
  });
  afterAll(async () => {
    await receiver?.close();
    await pacs?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('initial: the receiver holds every study with null counts and no modalities', async () => {
    await cli('initial');
    const held = await receiver.held(CENTER);
    expect([...held.keys()].sort()).toEqual(specs.map((s) => s.studyUid).sort());
    for (const spec of specs) {
      const r = held.get(spec.studyUid)!;
      expect(r, spec.patientId).toMatchObject({ patient_id: spec.patientId, patient_name: spec.patientName, deleted: false,
        study_series: null, study_instances: null, modalities: [], study_modality: null });
    }
    expect(await receiverContent(receiver)).toEqual(await pacsContent({ port: pacs.port, aet: pacs.aet }, daysAgo(6 * 365)));
    expect(await storedRows(receiver)).toEqual({ rows: specs.length, studies: specs.length });
  });

  it('sync finds the null counts unchanged and sends nothing again; a new study arrives with null counts', async () => {
    const before = sent();
    await cli('sync');
    expect(sent(), 'an unchanged study sent again').toBe(before);
    const added = studySpec({ patientId: 'Q-4', patientName: 'NEW^TODAY', studyDate: daysAgo(0), studyTime: '150000' });
    await store(added);
    await cli('sync');
    expect(sent()).toBe(before + 1);
    expect((await receiver.held(CENTER)).get(added.studyUid)).toMatchObject({ study_series: null, study_instances: null, modalities: [] });
    const status = await runCli(['status'], dir);
    expect(JSON.parse(status.stdout).source_detail.incomplete_days.count).toBe(0);
  });
});
