import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { AGENT_CLI } from '../scripts/demo/processes.js';
import type { BenchStack } from './bench-stack.js';
import type { Loaded } from './central-figures.js';
import { AGENT_AET, BenchPacs, orthancBinary, PACS_AET, type DicomTraffic } from './dimse-pacs.js';
import { dicomDay, findPython, planStudies, writeStudyFiles } from './dimse-studies.js';
import { storedStudies } from './initial-throughput.js';
import { passSummary, runMeasuredOk, type MeasuredRun } from './measured-child.js';

/** Days of studies in the PACS, and of history the crawl and the cold sweep read (a year before the first study). */
export const DATA_DAYS = 730;
const HISTORY_DAYS = DATA_DAYS + 365;
/** The pauses measured: none, and the default politeness (dimse.pause_ms). */
const PAUSES_MS = [0, 100] as const;
/** dimse.warm_every_minutes, the default: the bench moves the warm sweep's last finish back past it. */
const WARM_EVERY_MINUTES = 360;

export interface DimsePass extends DicomTraffic {
  /** The `indexer` process, spawn to exit. */
  wallMs: number;
  /** The pass (run summary duration_ms). */
  passMs: number;
  sent: number;
  peakRssMiB: number;
}

export interface DimseRun {
  pauseMs: number;
  initial: DimsePass & { studiesPerSecond: number; storedAtReceiver: number };
  /** A sync with both sweeps due (as days after the crawl): hot days, then the warm and the cold sweep. */
  syncSweepsDue: DimsePass;
  /** The next sync: hot days only (no sweep due). */
  syncHotOnly: DimsePass;
  /** A sync with the warm sweep due again (its last finish moved back 6 h), the cold one not. */
  syncWarmDue: DimsePass;
}

export interface DimseCrawlResult {
  studies: number;
  dataDays: number;
  historyDays: number;
  /** Making the DICOM files (python3-pydicom), not counted in any rate. */
  generateSeconds: number;
  /** Storing them in Orthanc (REST POST /instances, 4 at a time), not counted in any rate. */
  uploadSeconds: number;
  /**
   * TCP_NODELAY as Orthanc saw it (it inherits the bench's environment): DCMTK leaves Nagle's
   * algorithm on unless it is set, which costs each exchange a delayed ACK (docs/benchmark.md).
   */
  pacsTcpNoDelay: string | null;
  runs: DimseRun[];
}

async function loadPacs(pacs: BenchPacs, python: string, studies: number, work: string): Promise<{ generateSeconds: number; uploadSeconds: number }> {
  const files = path.join(work, 'dicom');
  mkdirSync(files);
  let t = performance.now();
  const written = writeStudyFiles(python, planStudies(studies, DATA_DAYS), files);
  const generateSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  await pacs.upload(written);
  const uploadSeconds = (performance.now() - t) / 1000;
  rmSync(files, { recursive: true, force: true });
  const held = await pacs.studyCount();
  if (held !== studies) throw new Error(`Orthanc holds ${held} of ${studies} generated studies`);
  return { generateSeconds, uploadSeconds };
}

interface Site {
  config: string;
  stateFile: string;
  env: NodeJS.ProcessEnv;
}

/** The centre's config.json, as an operator writes one for `source: dimse`; no INDEXER_* variable overrides it. */
function writeSite(dir: string, pacs: BenchPacs, receiver: { url: string; code: string; key: string }, pauseMs: number): Site {
  const today = new Date();
  const stateFile = path.join(dir, 'dimse-state.json');
  const history = dicomDay(today, HISTORY_DAYS);
  const config = path.join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({
    source: 'dimse', url: receiver.url, key: receiver.key, center: receiver.code,
    dimse: {
      host: '127.0.0.1', port: pacs.dicomPort, called_aet: PACS_AET, calling_aet: AGENT_AET, state_file: stateFile, pause_ms: pauseMs,
      history_from: `${history.slice(0, 4)}-${history.slice(4, 6)}-${history.slice(6)}`, warm_every_minutes: WARM_EVERY_MINUTES,
    },
    log: { format: 'json', level: 'info' },
  }, null, 2));
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('INDEXER_')));
  return { config, stateFile, env };
}

async function measuredPass(pacs: BenchPacs, site: Site, command: 'initial' | 'sync'): Promise<DimsePass> {
  const mark = pacs.mark();
  const run: MeasuredRun = await runMeasuredOk(AGENT_CLI, [command, '--config', site.config], site.env);
  const traffic = await pacs.trafficSince(mark);
  const summary = passSummary(run.stderr);
  if (!summary) throw new Error(`indexer ${command} logged no pass summary`);
  return {
    ...traffic, wallMs: run.wallMs, passMs: summary.duration_ms ?? Number.NaN, sent: summary.sent ?? Number.NaN, peakRssMiB: run.peakRssMiB,
  };
}

/** As if the warm sweep (and, with `cold`, the cold one) had last finished longer ago than its interval. */
function makeSweepsDue(stateFile: string, cold: boolean): void {
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { warm: { finished_at: string | null }; cold: { finished_at: string | null } };
  state.warm.finished_at = new Date(Date.now() - (WARM_EVERY_MINUTES + 1) * 60_000).toISOString();
  if (cold) state.cold.finished_at = null;
  writeFileSync(stateFile, JSON.stringify(state));
}

async function crawlWith(stack: BenchStack, pacs: BenchPacs, studies: number, pauseMs: number, dir: string): Promise<DimseRun> {
  const code = `D${String(pauseMs).padStart(3, '0')}`;
  const key = await stack.addCentre(code);
  mkdirSync(dir);
  const site = writeSite(dir, pacs, { url: stack.base, code, key }, pauseMs);
  const initial = await measuredPass(pacs, site, 'initial');
  const stored = await storedStudies(stack, code);
  if (stored !== studies) throw new Error(`the dimse crawl stored ${stored} of ${studies} studies`);
  // The crawl leaves both sweeps just finished: made due here, as they are days later.
  makeSweepsDue(site.stateFile, true);
  const syncSweepsDue = await measuredPass(pacs, site, 'sync');
  const syncHotOnly = await measuredPass(pacs, site, 'sync');
  makeSweepsDue(site.stateFile, false);
  const syncWarmDue = await measuredPass(pacs, site, 'sync');
  return {
    pauseMs, initial: { ...initial, studiesPerSecond: studies / (initial.wallMs / 1000), storedAtReceiver: stored },
    syncSweepsDue, syncHotOnly, syncWarmDue,
  };
}

/**
 * Figure 8: `indexer initial` and `indexer sync` with `source: dimse` against a real Orthanc
 * holding `studies` one-instance studies, with no pause between queries and with the default
 * 100 ms. The rate is studies over the wall time of `indexer initial`; loading the PACS is timed
 * apart. Queries are counted in Orthanc's log.
 */
export async function measureDimseCrawl(stack: BenchStack, studies: number): Promise<Loaded<DimseCrawlResult>> {
  const binary = orthancBinary();
  if (!binary) return { ok: false, todo: 'TODO: Orthanc is not installed (apt-get install -y orthanc)' };
  const python = findPython();
  if ('missing' in python) return { ok: false, todo: `TODO: ${python.missing}` };
  const pacs = new BenchPacs();
  const work = mkdtempSync(path.join(tmpdir(), 'pacs-indexer-bench-dimse-'));
  try {
    await pacs.start(binary);
    const load = await loadPacs(pacs, python.python, studies, work);
    const runs: DimseRun[] = [];
    for (const pauseMs of PAUSES_MS) runs.push(await crawlWith(stack, pacs, studies, pauseMs, path.join(work, `pause-${pauseMs}`)));
    const pacsTcpNoDelay = process.env.TCP_NODELAY ?? null;
    return { ok: true, result: { studies, dataDays: DATA_DAYS, historyDays: HISTORY_DAYS, ...load, pacsTcpNoDelay, runs } };
  } finally {
    await pacs.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
