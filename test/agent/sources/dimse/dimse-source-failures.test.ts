import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BATCHES, RECONCILE_READS, startCentralReceiver, type CentralReceiver } from '../../../helpers/central-receiver.js';
import { freePort } from '../../../helpers/orthanc.js';
import { runCli, spawnCli, waitFor, type CliResult } from '../../support/agent-harness.js';
import { requireDicomTools, studySpec, writeStudyFiles, type StudySpec } from './support/dicom-files.js';
import { CENTER, daysAgo, INDEXER_AET, KEY, pacsContent, receiverContent, storedRows, writeDimseConfig } from './support/dimse-site.js';
import { startPacsOrthanc, type PacsOrthanc } from './support/pacs-orthanc.js';

/**
 * `source: dimse` through the built CLI when things break under a running site: an agent killed
 * mid-crawl (resumed, not restarted), the receiver down during a sync (its days, or its batches),
 * the PACS stopped between passes and in the middle of one. Each failed pass exits non-zero naming
 * what failed and leaves the checkpoints where they were; the next pass carries on, and the
 * receiver ends equal to the PACS, one row per study.
 */
const declared = { indexer: [INDEXER_AET, '127.0.0.1', 11112] as [string, string, number] };
const ISO = (da: string): string => `${da.slice(0, 4)}-${da.slice(4, 6)}-${da.slice(6, 8)}`;
const output = (r: CliResult): string => `${r.stdout}\n${r.stderr}`;
const stateOf = (dir: string): Record<string, any> => JSON.parse(readFileSync(join(dir, 'dimse-state.json'), 'utf8'));
/** The state a pass moves (last_run and last_error record every run, failed ones too). */
function checkpoints(dir: string): Record<string, unknown> {
  const { last_run: _run, last_error: _error, ...rest } = stateOf(dir);
  return rest;
}

describe('a crawl killed, the receiver down, the PACS stopped', { timeout: 240_000 }, () => {
  let pacs: PacsOrthanc;
  let receiver: CentralReceiver;
  let dir: string;
  // One study a day over 25 days (two on one of them), in a history of 31 days.
  const specs: StudySpec[] = Array.from({ length: 25 }, (_, k) => studySpec({
    patientId: `K-${k}`, patientName: `DAY^${k}`, studyDate: daysAgo(k), studyTime: '090000', series: [{ modality: k % 2 ? 'MR' : 'CT', instances: 1 }],
  }));
  specs.push(studySpec({ patientId: 'K-5B', patientName: 'DAY^FIVE^B', studyDate: daysAgo(5), studyTime: '160000' }));
  const oldest = daysAgo(30);
  const upload = (s: StudySpec): Promise<void> => pacs.upload(writeStudyFiles(s, join(dir, 'dicom', `${s.patientId}-${Math.random()}`)));
  const site = (dimse: Record<string, unknown> = {}, top: Record<string, unknown> = {}): void => {
    writeDimseConfig(dir, receiver.url, { port: pacs.dicomPort, aet: pacs.aet }, { history_from: ISO(oldest), ...dimse }, top);
  };
  const cli = async (cmd: string): Promise<void> => {
    const r = await runCli([cmd], dir);
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
  };
  const sent = (): number => receiver.batchSizes().reduce((a, b) => a + b, 0);
  const expectEqual = async (): Promise<void> => {
    expect(await receiverContent(receiver)).toEqual(await pacsContent({ port: pacs.dicomPort, aet: pacs.aet }, oldest));
    const rows = await storedRows(receiver);
    expect(rows.rows, 'one row per study').toBe(rows.studies);
  };

  beforeAll(async () => {
    requireDicomTools();
    dir = mkdtempSync(join(tmpdir(), 'dimse-outages-'));
    pacs = await startPacsOrthanc({ aet: 'PACSRUN', modalities: declared });
    receiver = await startCentralReceiver('dimse_outages', { [CENTER]: KEY });
    for (const s of specs) await upload(s);
  });
  afterAll(async () => {
    await receiver?.close();
    await pacs?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('an agent killed mid-crawl resumes where it was acknowledged, not from today', async () => {
    // Slow: one day per query, 300 ms apart, one study per delivery.
    site({ pause_ms: 300, max_span_days: 1 }, { read_chunk: 1 });
    const run = spawnCli(['initial'], dir);
    await waitFor(() => existsSync(join(dir, 'dimse-state.json')) && stateOf(dir).initial.crawled >= 4, 'the crawl to acknowledge 4 studies');
    run.child.kill('SIGKILL');
    expect((await run.done).signal).toBe('SIGKILL');
    // A batch the receiver took as the agent died is answered (and counted) by now.
    await new Promise((r) => setTimeout(r, 500));
    const killed = stateOf(dir).initial;
    expect(killed.done).toBe(false);
    expect(killed.next_day < killed.start_day).toBe(true);
    const left = specs.filter((s) => ISO(s.studyDate!) <= killed.next_day).length;
    expect(killed.crawled + left, 'what was acknowledged and what is left make the whole PACS').toBe(specs.length);
    expect(left).toBeGreaterThan(0);
    const before = sent();

    const resumed = await runCli(['initial'], dir);
    expect(resumed.code, resumed.stderr.slice(-3000)).toBe(0);
    expect(resumed.stderr).toContain('initial load resuming');
    expect(sent() - before, 'only the days not acknowledged are read and sent again').toBe(left);
    expect(stateOf(dir).initial).toEqual({ ...killed, next_day: null, crawled: specs.length, done: true });
    await expectEqual();
  });

  /** A sync while the receiver answers its days but refuses every batch (503). */
  const syncRefused = async (): Promise<void> => {
    const refusedBefore = receiver.proxy.count(BATCHES, 503);
    receiver.proxy.enqueue(BATCHES, ...Array.from({ length: 20 }, () => ({ kind: 'status' as const, status: 503 })));
    const r = await runCli(['sync'], dir);
    receiver.proxy.clear();
    expect(r.code, output(r)).toBe(6);
    expect(r.stderr).toMatch(/indexer: receiver http:\/\/127\.0\.0\.1:\d+ unavailable .*HTTP 503/);
    expect(receiver.proxy.count(BATCHES, 503)).toBeGreaterThan(refusedBefore);
  };
  /** The checkpoints but the version counter (a refused batch still used up its version: versions only grow). */
  const moved = (): Record<string, unknown> => {
    const { version_high: _v, ...rest } = checkpoints(dir);
    return rest;
  };

  it('the receiver down during a sync: the sync fails, the state does not move; the next sync works', async () => {
    site();
    // A new study two days ago (read after yesterday), yesterday's study deleted: both in one delivery.
    const added = studySpec({ patientId: 'K-NEW', patientName: 'NEW^ONE', studyDate: daysAgo(2), studyTime: '200000' });
    await upload(added);
    const deleted = specs.find((s) => s.studyDate === daysAgo(1))!;
    await pacs.deleteStudy(deleted.studyUid);
    const start = checkpoints(dir);

    const dead = await runCli(['sync', '--url', `http://127.0.0.1:${await freePort()}`], dir);
    expect(dead.code, output(dead)).toBe(6);
    expect(dead.stderr).toMatch(/indexer: receiver http:\/\/127\.0\.0\.1:\d+ unavailable/);
    expect(checkpoints(dir)).toEqual(start);

    const { version_high: _v, ...unmoved } = start;
    await syncRefused();
    expect(moved(), 'the deletion is not noted, the sweeps do not move').toEqual(unmoved);
    expect((await receiver.held(CENTER)).has(added.studyUid)).toBe(false);

    await cli('sync');
    expect((await receiver.held(CENTER)).get(added.studyUid)?.deleted).toBe(false);
    expect(Object.keys(stateOf(dir).absent)).toEqual([deleted.studyUid]);

    // The pass that confirms the deletion cannot deliver its tombstone: the study stays noted, alive.
    const noted = moved();
    await syncRefused();
    expect(moved()).toEqual(noted);
    expect((await receiver.held(CENTER)).get(deleted.studyUid)?.deleted).toBe(false);

    await cli('sync');
    expect((await receiver.held(CENTER)).get(deleted.studyUid)?.deleted).toBe(true);
    expect(stateOf(dir).absent).toEqual({});
    await expectEqual();
  });

  it('the PACS stopped between passes: sync fails naming it; after its restart the next pass works', async () => {
    const start = checkpoints(dir);
    await pacs.halt();
    const down = await runCli(['sync'], dir);
    expect(down.code, output(down)).toBe(3);
    expect(down.stderr).toMatch(new RegExp(`indexer: C-FIND to PACSRUN@127\\.0\\.0\\.1:${pacs.dicomPort} .*connection refused.*\\n.*nothing listens on that port`));
    expect(checkpoints(dir)).toEqual(start);
    await pacs.resume();
    const added = studySpec({ patientId: 'K-BACK', patientName: 'BACK^AGAIN', studyDate: daysAgo(0), studyTime: '210000' });
    await upload(added);
    await cli('sync');
    expect((await receiver.held(CENTER)).get(added.studyUid)?.deleted).toBe(false);
    await expectEqual();
  });

  it('the PACS stopped in the middle of a pass: the pass fails naming it; after its restart the next pass works', async () => {
    // Every day of the history read on each pass, 300 ms apart: a pass of about 10 s.
    site({ hot_days: 31, pause_ms: 300 });
    const late = studySpec({ patientId: 'K-LATE', patientName: 'READ^LATE', studyDate: daysAgo(20), studyTime: '070000' });
    await upload(late);
    const start = checkpoints(dir);
    const reads = receiver.proxy.count(RECONCILE_READS);
    const run = spawnCli(['sync'], dir);
    // The receiver's days are asked for after the pass's first window: the pass is under way.
    await waitFor(() => receiver.proxy.count(RECONCILE_READS) > reads, 'the pass to read its first window');
    await pacs.halt();
    const stopped = await run.done;
    expect(stopped.code, output(stopped)).toBe(3);
    expect(stopped.stderr).toMatch(new RegExp(`indexer: C-FIND to PACSRUN@127\\.0\\.0\\.1:${pacs.dicomPort} `));
    expect((await receiver.held(CENTER)).has(late.studyUid)).toBe(false);
    expect(checkpoints(dir)).toEqual(start);
    await pacs.resume();
    site({ hot_days: 31 });
    await cli('sync');
    expect((await receiver.held(CENTER)).get(late.studyUid)?.deleted).toBe(false);
    await expectEqual();
  });
});
