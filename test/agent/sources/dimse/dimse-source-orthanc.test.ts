import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCentralReceiver, type CentralReceiver } from '../../../helpers/central-receiver.js';
import { runCli } from '../../support/agent-harness.js';
import { requireDicomTools, studySpec, writeStudyFiles, type StudySpec } from './support/dicom-files.js';
import { CENTER, daysAgo, INDEXER_AET, KEY, pacsContent, receiverContent, writeDimseConfig } from './support/dimse-site.js';
import { startPacsOrthanc, type PacsOrthanc } from './support/pacs-orthanc.js';

/**
 * `source: dimse` through the built CLI against a real Orthanc as the PACS: the initial crawl, a
 * new study, a study that grows, a rename, a deletion (a tombstone only after two passes and a
 * UID-only query), a corrected date (a move, not a deletion); the receiver ends equal to the PACS.
 */
const declared = { indexer: [INDEXER_AET, '127.0.0.1', 11112] as [string, string, number] };

describe('indexer with source dimse against Orthanc (built CLI)', { timeout: 180_000 }, () => {
  let pacs: PacsOrthanc;
  let receiver: CentralReceiver;
  let dir: string;
  const oldest = daysAgo(6 * 365);
  const specs: StudySpec[] = [
    studySpec({ patientId: 'D-1', patientName: 'MUÑOZ^JOSÉ', studyDate: daysAgo(0), studyTime: '081500', charset: 'ISO_IR 100', series: [{ modality: 'CT', instances: 2 }] }),
    studySpec({ patientId: 'D-2', patientName: 'ÑANDÚ^BEGOÑA', studyDate: daysAgo(1), studyTime: '120000', charset: 'ISO_IR 100', series: [{ modality: 'MR', instances: 1 }] }),
    studySpec({ patientId: 'D-3', patientName: 'SMITH^JOHN', studyDate: daysAgo(20), series: [{ modality: 'CT', instances: 1 }, { modality: 'MR', instances: 1 }] }),
    studySpec({ patientId: 'D-4', patientName: 'OLD^ONE', studyDate: daysAgo(400), studyTime: '2359', series: [{ modality: 'CT', instances: 1 }] }),
    studySpec({ patientId: 'D-5', patientName: 'OLDER^TWO', studyDate: daysAgo(3 * 365), series: [{ modality: 'MR', instances: 1 }] }),
  ];
  const upload = async (spec: StudySpec): Promise<void> => pacs.upload(writeStudyFiles(spec, join(dir, 'dicom', `${spec.patientId}-${Math.random()}`)));
  const pass = async (cmd: string): Promise<void> => {
    const r = await runCli([cmd], dir);
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
  };
  const expectEqual = async (): Promise<void> => {
    expect(await receiverContent(receiver)).toEqual(await pacsContent({ port: pacs.dicomPort, aet: pacs.aet }, oldest));
  };
  const state = (): Record<string, any> => JSON.parse(readFileSync(join(dir, 'dimse-state.json'), 'utf8'));

  beforeAll(async () => {
    requireDicomTools();
    dir = mkdtempSync(join(tmpdir(), 'dimse-source-'));
    pacs = await startPacsOrthanc({ aet: 'PACSDIMSE', modalities: declared });
    receiver = await startCentralReceiver('dimse_src', { [CENTER]: KEY });
    for (const s of specs) await upload(s);
    writeDimseConfig(dir, receiver.url, { port: pacs.dicomPort, aet: pacs.aet });
  });
  afterAll(async () => {
    await receiver?.close();
    await pacs?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('install and uninstall say there is nothing to install', async () => {
    const res = await runCli(['install'], dir);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('nothing to install for a DICOM network source');
  });

  it('check answers C-ECHO and a bounded C-FIND', async () => {
    const res = await runCli(['check'], dir);
    expect(res.stdout).toContain('answers C-ECHO');
    expect(res.stdout).toMatch(/answers a study-level C-FIND \(1 studies today\)/);
    expect(res.code, res.stdout).toBe(0);
  });

  it('initial crawls the whole history newest first; the receiver equals the PACS', async () => {
    await pass('initial');
    await expectEqual();
    expect(state().initial).toMatchObject({ done: true, crawled: specs.length });
    const again = await runCli(['initial'], dir);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('already complete');
  });

  it('sync sends a new study, a study that grew and a renamed patient', async () => {
    await upload(studySpec({ patientId: 'D-6', patientName: 'NEW^TODAY', studyDate: daysAgo(0), series: [{ modality: 'MR', instances: 1 }] }));
    // Grows: one more series in the study of today.
    await upload({ ...specs[0]!, series: [{ modality: 'MR', instances: 1 }] });
    // A rename: the study of yesterday stored again under the corrected name.
    await pacs.deleteStudy(specs[1]!.studyUid);
    await upload({ ...specs[1]!, patientName: 'ÑANDÚ^BEGOÑA^MARÍA' });
    await pass('sync');
    await expectEqual();
    const held = await receiverContent(receiver);
    expect(held.get(specs[0]!.studyUid)).toMatchObject({ study_series: 2, modalities: ['CT', 'MR'] });
    expect(held.get(specs[1]!.studyUid)?.patient_name).toBe('ÑANDÚ^BEGOÑA^MARÍA');
    // Each window asks the receiver for its own days only: never the centre's whole history.
    const dayReads = receiver.proxy.exchanges.filter((e) => e.path.includes('/reconcile/days'));
    expect(dayReads.length).toBeGreaterThan(0);
    for (const e of dayReads) expect(e.path).toMatch(/\?from=\d{4}-\d{2}-\d{2}&to=\d{4}-\d{2}-\d{2}$/);
  });

  it('a deleted study becomes a tombstone only on the second pass that misses it, after a UID-only query', async () => {
    await pacs.deleteStudy(specs[0]!.studyUid);
    await pass('sync');
    expect((await receiver.held(CENTER)).get(specs[0]!.studyUid)?.deleted).toBe(false);
    expect(Object.keys(state().absent)).toEqual([specs[0]!.studyUid]);
    await pass('sync');
    expect((await receiver.held(CENTER)).get(specs[0]!.studyUid)?.deleted).toBe(true);
    expect(state().absent).toEqual({});
    await expectEqual();
  });

  it('a study whose date was corrected moves: it is not deleted', async () => {
    // Yesterday's study (read on every pass) corrected to a day no pass reads: only the UID-only query finds it.
    const moved = { ...specs[1]!, patientName: 'ÑANDÚ^BEGOÑA^MARÍA' };
    await pacs.deleteStudy(moved.studyUid);
    await upload({ ...moved, studyDate: daysAgo(900) });
    await pass('sync');
    await pass('sync');
    const held = await receiver.held(CENTER);
    expect(held.get(moved.studyUid)).toMatchObject({ deleted: false });
    expect(held.get(moved.studyUid)?.study_datetime?.slice(0, 10).replace(/-/g, '')).toBe(daysAgo(900));
    await expectEqual();
  });

  it('status shows the crawl, the sweeps and no incomplete day', async () => {
    const res = await runCli(['status'], dir);
    expect(res.code, res.stderr).toBe(0);
    const out = JSON.parse(res.stdout);
    expect(out).toMatchObject({ source: 'dimse', initial: { done: true }, source_detail: { crawl: { done: true }, incomplete_days: { count: 0 } } });
    expect(out.source_detail.warm_sweep.finished_at).not.toBeNull();
  });
});
