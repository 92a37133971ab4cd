import type { Loaded, IngestFigure } from './central-figures.js';
import { queryLatencies } from './central-figures.js';
import type { ChangeLatencyResult } from './change-latency.js';
import type { DimseCrawlResult } from './dimse-crawl.js';
import type { IdleSyncResult } from './idle-sync.js';
import type { InitialLoadResult } from './initial-throughput.js';
import type { LegacyResult } from './legacy-client.js';
import type { TriggerOverheadResult } from './trigger-overhead.js';

export interface Figures {
  initial?: InitialLoadResult;
  legacy?: LegacyResult;
  changeLatency?: ChangeLatencyResult;
  triggerOverhead?: TriggerOverheadResult;
  ingest?: Loaded<IngestFigure[]>;
  queries?: Loaded<unknown>;
  idleSync?: IdleSyncResult;
  dimseCrawl?: Loaded<DimseCrawlResult>;
}

export type Status = 'met' | 'missed' | 'n/a' | 'TODO';

export interface TableRow {
  figure: string;
  measured: string;
  comparison: string;
  ratio: string;
  target: string;
  status: Status;
}

/** The legacy client runs from cron every 5 minutes: a change waits for the next run, uniformly. */
const LEGACY_CRON_S = 300;

const n0 = (v: number) => Math.round(v).toLocaleString('en-US');
const n1 = (v: number) => (Math.round(v * 10) / 10).toLocaleString('en-US');
const x = (v: number) => `${v >= 10 ? Math.round(v) : n1(v)}×`;
const met = (ok: boolean): Status => (ok ? 'met' : 'missed');

function initialRows(f: Figures, full: boolean): TableRow[] {
  const rows: TableRow[] = [];
  const i = f.initial;
  if (!i) return rows;
  rows.push({
    figure: `1. Initial load, ${n0(i.studies)} studies (end to end)`, measured: `${n0(i.studiesPerSecond)} studies/s`,
    comparison: `pass alone ${n0(i.studies / i.passSeconds)}/s`, ratio: x(i.studiesPerSecond / 10_000) + ' of target',
    target: '≥ 10,000 studies/s', status: met(i.studiesPerSecond >= 10_000),
  });
  rows.push({
    figure: `1b. Agent peak RSS at ${n0(i.studies)}`, measured: `${n0(i.peakRssMiB)} MiB`, comparison: '150 MiB budget',
    ratio: `${n1(i.peakRssMiB / 150)} of budget`, target: '≤ 150 MiB at 1M',
    status: full || i.studies >= 1_000_000 ? met(i.peakRssMiB <= 150) : i.peakRssMiB <= 150 ? 'met' : 'missed',
  });
  const l = f.legacy;
  if (l) {
    rows.push({
      figure: '2. Legacy design, same data', measured: `${n1(l.studiesPerSecond)} studies/s${l.extrapolated ? ` (${n0(l.posted)} posted, extrapolated)` : ''}`,
      comparison: `ours ${n0(i.studiesPerSecond)}/s`, ratio: `${x(i.studiesPerSecond / l.studiesPerSecond)} faster`,
      target: '≥ 20×', status: met(i.studiesPerSecond / l.studiesPerSecond >= 20),
    });
  }
  return rows;
}

function latencyRows(f: Figures): TableRow[] {
  const c = f.changeLatency;
  if (!c) return [];
  const legacyP95 = LEGACY_CRON_S * 0.95;
  return [{
    figure: `3. Change latency, ${c.changes} changes at ${c.perSecond}/s`, measured: `p50 ${n0(c.p50Ms)} ms, p95 ${n0(c.p95Ms)} ms${c.timedOut ? `, ${c.timedOut} timed out` : ''}`,
    comparison: `legacy cron */5: p95 ≈ ${n0(legacyP95)} s (new studies only)`, ratio: `${x((legacyP95 * 1000) / c.p95Ms)} sooner`,
    target: 'p95 ≤ 3 s', status: met(c.p95Ms <= 3000 && c.timedOut === 0),
  }];
}

function triggerRows(f: Figures): TableRow[] {
  const t = f.triggerOverhead;
  if (!t) return [];
  return [{
    figure: `4. Trigger overhead, write mix of ${t.studies} studies ×${t.cycles * 2}`, measured: `${n1(t.withTriggersStudiesPerSecond)} studies/s with triggers`,
    comparison: `${n1(t.withoutTriggersStudiesPerSecond)}/s without`, ratio: t.ratio.toFixed(2), target: 'ratio ≥ 0.90', status: met(t.meetsTarget),
  }];
}

function ingestRows(f: Figures): TableRow[] {
  const g = f.ingest;
  if (!g) return [];
  if (!g.ok) return [{ figure: '5. Receiver ingest, 1/4/16 centres', measured: g.todo, comparison: '', ratio: '', target: '≥ 20,000 records/s at 4', status: 'TODO' }];
  const one = g.result.find((r) => r.centres === 1);
  return g.result.map((r) => ({
    figure: `5. Receiver ingest, ${r.centres} centre${r.centres > 1 ? 's' : ''} (${n0(r.records)} records)`, measured: `${n0(r.recordsPerSecond)} records/s`,
    comparison: one ? `1 centre ${n0(one.recordsPerSecond)}/s` : '', ratio: one ? x(r.recordsPerSecond / one.recordsPerSecond) : '',
    target: r.centres === 4 ? '≥ 20,000 records/s' : '—', status: r.centres === 4 ? met(r.recordsPerSecond >= 20_000) : 'n/a',
  }));
}

function queryRows(f: Figures, studies: number): TableRow[] {
  const q = f.queries;
  if (!q) return [];
  if (!q.ok) return [{ figure: `6. Query latency at ${n0(studies)} studies`, measured: q.todo, comparison: '', ratio: '', target: 'p95 ≤ 20 ms', status: 'TODO' }];
  return queryLatencies(q.result).map((r) => ({
    figure: `6. Query: ${r.name} (${n0(studies)} stored)`, measured: `p50 ${n1(r.p50Ms)} / p95 ${n1(r.p95Ms)} / p99 ${n1(r.p99Ms)} ms`,
    comparison: '20 ms budget', ratio: `${n1(r.p95Ms / 20)} of budget`, target: 'p95 ≤ 20 ms', status: met(r.p95Ms <= 20),
  }));
}

function idleRows(f: Figures): TableRow[] {
  const s = f.idleSync;
  if (!s) return [];
  return [{
    figure: `7. Idle sync (nothing queued), median of ${s.runs}`, measured: `pass ${n0(s.passMs)} ms`,
    comparison: `whole process ${n0(s.processMs)} ms`, ratio: `pass is ${Math.round((s.passMs / s.processMs) * 100)}%`,
    target: 'pass ≤ 50 ms', status: met(s.passMs <= 50),
  }];
}

/** The sync's query budget (dimse.max_queries_per_pass, default): no pass may send more. */
const DIMSE_BUDGET = 400;

function dimseRows(f: Figures): TableRow[] {
  const d = f.dimseCrawl;
  if (!d) return [];
  if (!d.ok) return [{ figure: '8. DIMSE crawl (Orthanc)', measured: d.todo, comparison: '', ratio: '', target: '—', status: 'TODO' }];
  const { studies, runs } = d.result;
  const fastest = runs[0]!;
  const rows: TableRow[] = runs.map((r) => ({
    figure: `8. DIMSE crawl, ${n0(studies)} studies / ${Math.round(d.result.dataDays / 365)} y, pause ${r.pauseMs} ms`,
    measured: `${n0(r.initial.studiesPerSecond)} studies/s, ${n0(r.initial.finds)} C-FIND`,
    comparison: r === fastest ? `load ${n1(d.result.generateSeconds + d.result.uploadSeconds)} s, not counted` : `pause 0: ${n0(fastest.initial.studiesPerSecond)}/s`,
    ratio: r === fastest ? '' : x(r.initial.studiesPerSecond / fastest.initial.studiesPerSecond),
    target: '—', status: 'n/a',
  }));
  const polite = runs[runs.length - 1]!;
  const passes = [polite.syncHotOnly, polite.syncWarmDue, polite.syncSweepsDue];
  rows.push({
    figure: `8b. DIMSE sync, C-FIND per pass (pause ${polite.pauseMs} ms)`,
    measured: `hot only ${polite.syncHotOnly.finds}, warm due ${polite.syncWarmDue.finds}, warm+cold due ${polite.syncSweepsDue.finds}`,
    comparison: `wall ${passes.map((p) => n0(p.wallMs)).join(' / ')} ms`, ratio: '',
    target: `≤ ${DIMSE_BUDGET} (max_queries_per_pass)`, status: met(passes.every((p) => p.finds <= DIMSE_BUDGET)),
  });
  return rows;
}

export function tableRows(f: Figures, full: boolean, queryStudies: number): TableRow[] {
  return [
    ...initialRows(f, full), ...latencyRows(f), ...triggerRows(f), ...ingestRows(f), ...queryRows(f, queryStudies), ...idleRows(f), ...dimseRows(f),
  ];
}

/** A Markdown table: readable on a terminal and pasteable into docs/benchmark.md as is. */
export function formatTable(rows: TableRow[]): string {
  const head = ['figure', 'measured', 'comparison', 'ratio', 'target', ''];
  const body = rows.map((r) => [r.figure, r.measured, r.comparison, r.ratio, r.target, r.status]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
