import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCentralReceiver, type CentralReceiver } from '../../../helpers/central-receiver.js';
import { runCli } from '../../support/agent-harness.js';
import { startArchiveScp, type ArchiveScp, type ArchiveStudy } from './support/archive-scp.js';
import { requireDicomTools, studySpec, writeStudyFiles, type StudySpec } from './support/dicom-files.js';
import { CENTER, daysAgo, INDEXER_AET, KEY, receiverContent, storedRows, writeDimseConfig, type HeldStudy } from './support/dimse-site.js';
import { startPacsOrthanc, type PacsOrthanc } from './support/pacs-orthanc.js';

/**
 * PACS that cut their answers, through the built CLI: Orthanc's LimitFindResults (a Cancel
 * status after 3 answers) with a busy day read in time halves and a quarter hour of exactly 3
 * studies (a Success: complete, not a cut), and an archive that stops at 500
 * answers and says Success (its cap learned), with a day so busy that even a quarter hour holds
 * more than 500: that day is read by modality, listed incomplete, and never produces a tombstone.
 */
const isoDay = (da: string): string => `${da.slice(0, 4)}-${da.slice(4, 6)}-${da.slice(6, 8)}`;
const isoDateTime = (da: string, tm: string): string => `${isoDay(da)}T${tm.slice(0, 2)}:${tm.slice(2, 4)}:${tm.slice(4, 6)}`;
const hhmmss = (s: number): string => [Math.floor(s / 3600), Math.floor(s / 60) % 60, s % 60].map((n) => String(n).padStart(2, '0')).join('');

async function cli(dir: string, cmd: string): Promise<void> {
  const r = await runCli([cmd], dir);
  expect(r.code, r.stderr.slice(-3000)).toBe(0);
}

async function status(dir: string): Promise<Record<string, any>> {
  const r = await runCli(['status'], dir);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Record<string, any>;
}

const stateOf = (dir: string): Record<string, any> => JSON.parse(readFileSync(join(dir, 'dimse-state.json'), 'utf8'));

describe('Orthanc cutting every answer at 3 (LimitFindResults)', { timeout: 180_000 }, () => {
  let pacs: PacsOrthanc;
  let receiver: CentralReceiver;
  let dir: string;
  const busy = daysAgo(3);
  // Eight studies on one day, each in its own quarter hour, both modalities: only time halves read them all.
  const times = ['003000', '031500', '064500', '091000', '120000', '143000', '180500', '235900'];
  const specs: StudySpec[] = [
    ...times.map((t, i) => studySpec({ patientId: `T-${i}`, patientName: `BUSY^DAY${i}`, studyDate: busy, studyTime: t, series: [{ modality: i % 2 ? 'MR' : 'CT', instances: 1 }] })),
    // Exactly as many studies in one quarter hour as Orthanc gives in one answer: it says Success, the day is complete.
    ...['100000', '100100', '100200'].map((t, i) => studySpec({ patientId: `T-2${i}`, patientName: `FULL^ANSWER${i}`, studyDate: daysAgo(5), studyTime: t })),
    studySpec({ patientId: 'T-10', patientName: 'TODAY^ONE', studyDate: daysAgo(0), studyTime: '080000' }),
    studySpec({ patientId: 'T-11', patientName: 'YESTERDAY^ONE', studyDate: daysAgo(1), studyTime: '090000', series: [{ modality: 'MR', instances: 2 }] }),
    studySpec({ patientId: 'T-12', patientName: 'YESTERDAY^TWO', studyDate: daysAgo(1), studyTime: '100000' }),
    studySpec({ patientId: 'T-13', patientName: 'MONTH^AGO', studyDate: daysAgo(30), studyTime: '110000', series: [{ modality: 'CT', instances: 1 }, { modality: 'MR', instances: 1 }] }),
    studySpec({ patientId: 'T-14', patientName: 'YEAR^AGO', studyDate: daysAgo(400), studyTime: '120000' }),
  ];
  const expected = (): Map<string, HeldStudy> => new Map(specs.map((s) => [s.studyUid, {
    patient_id: s.patientId, patient_name: s.patientName, study_datetime: isoDateTime(s.studyDate!, s.studyTime!),
    study_series: s.series.length, study_instances: s.series.reduce((n, x) => n + x.instances, 0),
    modalities: [...new Set(s.series.map((x) => x.modality))].sort(),
  }]));

  beforeAll(async () => {
    requireDicomTools();
    dir = mkdtempSync(join(tmpdir(), 'dimse-trunc-orthanc-'));
    pacs = await startPacsOrthanc({ aet: 'PACSCAP3', limitFindResults: 3, modalities: { indexer: [INDEXER_AET, '127.0.0.1', 11112] } });
    receiver = await startCentralReceiver('dimse_trunc3', { [CENTER]: KEY });
    for (const s of specs) await pacs.upload(writeStudyFiles(s, join(dir, 'dicom', s.patientId)));
    writeDimseConfig(dir, receiver.url, { port: pacs.dicomPort, aet: pacs.aet });
  });
  afterAll(async () => {
    await receiver?.close();
    await pacs?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('initial reads the busy day in time halves: the receiver holds every study, no day is incomplete', async () => {
    await cli(dir, 'initial');
    expect(await receiverContent(receiver)).toEqual(expected());
    expect(await storedRows(receiver)).toEqual({ rows: specs.length, studies: specs.length });
    const out = await status(dir);
    expect(out.source_detail.incomplete_days).toEqual({ count: 0, days: [] });
    // Orthanc says when it cuts (Cancel): nothing to learn, and a full answer that ends Success is complete.
    expect(out.source_detail.learned_answer_cap).toBeNull();
    expect(stateOf(dir)).toMatchObject({ learned_cap: 0, initial: { done: true, crawled: specs.length } });
  });

  it('a sync pass reads the same cut answers and sends nothing again', async () => {
    const before = receiver.batchSizes().reduce((a, b) => a + b, 0);
    await cli(dir, 'sync');
    expect(receiver.batchSizes().reduce((a, b) => a + b, 0)).toBe(before);
    expect(await receiverContent(receiver)).toEqual(expected());
    expect((await status(dir)).source_detail.incomplete_days.count).toBe(0);
  });
});

describe('an archive that stops at 500 answers and says Success', { timeout: 300_000 }, () => {
  let archive: ArchiveScp;
  let receiver: CentralReceiver;
  let dir: string;
  const busy = daysAgo(4);
  const packed = daysAgo(10);
  const studies: ArchiveStudy[] = [];
  const add = (date: string, time: string, modality: string): void => {
    const n = studies.length;
    studies.push({ uid: `1.2.826.0.1.3680043.10.${n + 1}`, date, time, modality, patientId: `A-${n + 1}` });
  };
  // 1,200 studies spread over one day; 700 in the five minutes after 10:00 (half CT, half MR) on another.
  for (let i = 0; i < 1200; i++) add(busy, hhmmss(i * 72), ['CT', 'MR', 'CR'][i % 3]!);
  for (let i = 0; i < 700; i++) add(packed, hhmmss(36_000 + (i % 300)), i % 2 ? 'MR' : 'CT');
  for (const [n, time] of [[0, '081500'], [0, '170000'], [2, '091500'], [2, '093000'], [40, '120000'], [500, '000000']] as const) add(daysAgo(n), time, 'US');
  const expected = (): Map<string, HeldStudy> => new Map(archive.studies.map((s) => [s.uid, {
    patient_id: s.patientId, patient_name: null, study_datetime: isoDateTime(s.date, s.time), study_series: 1, study_instances: 1, modalities: [s.modality],
  }]));
  const sent = (): number => receiver.batchSizes().reduce((a, b) => a + b, 0);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dimse-trunc-archive-'));
    archive = await startArchiveScp(studies, 500);
    receiver = await startCentralReceiver('dimse_trunc500', { [CENTER]: KEY });
    writeDimseConfig(dir, receiver.url, { port: archive.port, aet: 'ARCHIVE' });
  });
  afterAll(async () => {
    await receiver?.close();
    await archive?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('initial gets every study once and learns the cap of 500', async () => {
    await cli(dir, 'initial');
    expect(await receiverContent(receiver)).toEqual(expected());
    expect(sent(), 'every study sent exactly once').toBe(studies.length);
    expect(await storedRows(receiver)).toEqual({ rows: studies.length, studies: studies.length });
    expect(stateOf(dir)).toMatchObject({ learned_cap: 500, initial: { done: true, crawled: studies.length } });
    // Read in time halves: some query asked the busy day for part of the day only.
    expect(archive.queries.some((q) => q.StudyDate === busy && typeof q.StudyTime === 'string' && q.StudyTime !== '')).toBe(true);
  });

  it('status lists the day read by modality as incomplete, with why; the busy day is complete', async () => {
    const detail = (await status(dir)).source_detail;
    expect(detail.learned_answer_cap).toBe(500);
    expect(detail.incomplete_days.count).toBe(1);
    expect(detail.incomplete_days.days[0]).toMatchObject({ day: isoDay(packed), why: expect.stringMatching(/read by modality .*other modalities may be missing/) });
    expect(archive.queries.some((q) => q.StudyDate === packed && q.ModalitiesInStudy === 'CT')).toBe(true);
  });

  it('studies gone from the incomplete day never become tombstones; one gone from a complete day does', async () => {
    const onPacked = archive.studies.findIndex((s) => s.date === packed);
    const [fromPacked] = archive.studies.splice(onPacked, 1);
    const onHot = archive.studies.findIndex((s) => s.date === daysAgo(2));
    const [fromHot] = archive.studies.splice(onHot, 1);
    await cli(dir, 'sync');
    expect(Object.keys(stateOf(dir).absent)).toEqual([fromHot!.uid]);
    await cli(dir, 'sync');
    const held = await receiver.held(CENTER);
    expect(held.get(fromHot!.uid)?.deleted, 'gone from a complete day: a tombstone after two passes').toBe(true);
    expect(held.get(fromPacked!.uid)?.deleted, 'gone from the incomplete day: kept').toBe(false);
    const state = stateOf(dir);
    expect(state.absent).toEqual({});
    expect(Object.keys(state.incomplete)).toEqual([isoDay(packed)]);
    // Every other study is still held alive and unchanged.
    const live = await receiverContent(receiver);
    live.delete(fromPacked!.uid);
    expect(live).toEqual(expected());
  });
});
