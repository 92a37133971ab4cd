import { afterEach, describe, expect, it } from 'vitest';
import { DimseClient } from '../../../../src/agent/sources/dimse/dimse-client.js';
import { windowKeys, WindowReader } from '../../../../src/agent/sources/dimse/window-reader.js';
import { startArchiveScp, type ArchiveStudy } from './support/archive-scp.js';
import { startScriptedScp, type ScriptedScp } from './support/scripted-scp.js';

/** The reader's splitting against real DICOM peers (dcmjs-dimse's SCP side): refusals and silent caps. */
let scp: ScriptedScp | undefined;
afterEach(async () => {
  await scp?.stop();
  scp = undefined;
});

function readerOf(port: number, cap = 0): { reader: WindowReader; learned: number[] } {
  const learned: number[] = [];
  const client = new DimseClient({ host: '127.0.0.1', port, calledAet: 'ANY', callingAet: 'INDEXER', queryDeadlineMs: 10_000 });
  let known = cap;
  const reader = new WindowReader(client, {
    signal: new AbortController().signal, pauseMs: 0, cap: () => known,
    learnCap: (n) => {
      learned.push(n);
      known = n;
    },
  });
  return { reader, learned };
}

describe('reading a window of the PACS', () => {
  it('a slice of a day ends a whole second later, fractions included', () => {
    expect(windowKeys({ from: '2026-11-30', to: '2026-11-30', time: [0, 43_199] })).toEqual({ StudyDate: '20261130', StudyTime: '000000-115959.999999' });
    expect(windowKeys({ from: '2026-11-01', to: '2026-11-30', modality: 'CT' })).toEqual({ StudyDate: '20261101-20261130', ModalitiesInStudy: 'CT' });
  });

  it('a PACS that refuses every query: split by date down to days, never by time; the days are incomplete', async () => {
    scp = await startScriptedScp({ final: 0xc000 });
    const { reader } = readerOf(scp.port);
    const read = await reader.read({ from: '2026-11-01', to: '2026-11-04' });
    // 4 days: the range, two halves, four days.
    expect(reader.queries).toBe(7);
    expect([...read.incomplete.keys()].sort()).toEqual(['2026-11-01', '2026-11-02', '2026-11-03', '2026-11-04']);
    expect(read.incomplete.get('2026-11-01')).toMatch(/status 0xC000/i);
  });

  it('a silent cap (Success at 500): the day is read in time halves, the cap learned, every study once', async () => {
    const studies: ArchiveStudy[] = Array.from({ length: 1_200 }, (_, i) => ({
      uid: `1.2.826.0.1.${i + 1}`, date: '20261130', time: `${String(Math.floor(i / 60) % 24).padStart(2, '0')}${String(i % 60).padStart(2, '0')}00`, modality: i % 2 ? 'CT' : 'MR', patientId: `P${i}`,
    }));
    const archive = await startArchiveScp(studies, 500);
    scp = archive;
    const { reader, learned } = readerOf(archive.port);
    const read = await reader.read({ from: '2026-11-30', to: '2026-11-30' });
    expect(read.answers.map((a) => a.studyInstanceUid).sort()).toEqual(studies.map((s) => s.uid).sort());
    expect(read.incomplete.size).toBe(0);
    expect(learned).toEqual([500]);
  });

  it('more studies in a quarter hour than one answer holds: read by modality, and the day says so', async () => {
    // 25 at one time: no time slice holds them in 20 answers, each modality does.
    const studies: ArchiveStudy[] = Array.from({ length: 25 }, (_, i) => ({ uid: `1.2.826.0.2.${i + 1}`, date: '20261130', time: '101500', modality: i % 3 ? 'CT' : 'MR', patientId: `P${i}` }));
    const archive = await startArchiveScp(studies, 20);
    scp = archive;
    const { reader } = readerOf(archive.port, 20);
    const read = await reader.read({ from: '2026-11-30', to: '2026-11-30' });
    expect(read.answers).toHaveLength(25);
    expect(read.incomplete.get('2026-11-30')).toMatch(/read by modality/);
    // A day's splits stay within the window's budget of queries.
    expect(reader.queries).toBeLessThanOrEqual(300);
  });
});
