import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { BENCH_USAGE, parseBenchOptions, type BenchOptions } from './bench-options.js';
import { createCentre, openBenchStack, type BenchStack, type Centre } from './bench-stack.js';
import { withDatabase } from '../scripts/lib/mysql-url.js';
import { ingestFigures, queryFigures } from './central-figures.js';
import { measureChangeLatency } from './change-latency.js';
import { measureDimseCrawl } from './dimse-crawl.js';
import { measureIdleSync } from './idle-sync.js';
import { measureInitialLoad } from './initial-throughput.js';
import { runLegacyClient } from './legacy-client.js';
import { describeMachine } from './machine.js';
import { formatTable, tableRows, type Figures } from './report.js';
import { measureTriggerOverhead } from './trigger-overhead.js';

/**
 * `npm run bench`: every figure of issue 5 in one run, each next to its comparison, on one
 * MySQL-compatible server (a private mariadbd unless INDEXER_BENCH_MYSQL_URL is set), with the
 * real CLIs of agent and receiver as child processes. Prints a table, writes bench/results.json.
 */
const say = (line: string) => process.stderr.write(`${line}\n`);

async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const t = performance.now();
  say(`bench: ${label} …`);
  const result = await work();
  say(`bench: ${label} done in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  return result;
}

/** Figures 1, 2, 3 and 7 share one seeded centre and the receiver child. */
async function agentFigures(stack: BenchStack, o: BenchOptions, f: Figures): Promise<void> {
  const needsCentre = [1, 2, 3, 7].some((n) => o.only.has(n));
  if (!needsCentre) return;
  const centre: Centre = await timed(`seeding a pacsdb with ${o.studies} studies`, () => createCentre(stack, 'B01', o.studies));
  // The legacy design runs first, into the empty central DB, under a centre code of its own so
  // it inserts rows rather than losing to the agent's versions (which would be cheaper).
  if (o.only.has(2)) {
    const legacyKey = await stack.addCentre('L01');
    f.legacy = await timed(`2. legacy client (query + ${o.legacySample} sequential POSTs)`, () => runLegacyClient({
      db: { uri: withDatabase(stack.server.url, centre.db), charset: 'utf8mb4' }, center: 'L01', key: legacyKey,
      webserviceUrl: `${stack.base}/api/v1/register`, sample: o.legacySample,
    }));
  }
  if (o.only.has(1) || o.only.has(2)) f.initial = await timed('1. indexer initial', () => measureInitialLoad(stack, centre));
  if (o.only.has(3)) {
    f.changeLatency = await timed(`3. change latency (${o.changes} changes at ${o.changesPerSecond}/s)`, () =>
      measureChangeLatency(stack, centre, { changes: o.changes, perSecond: o.changesPerSecond }));
  }
  if (o.only.has(7)) f.idleSync = await timed('7. idle sync', () => measureIdleSync(stack, centre, o.idleRuns));
}

async function main(): Promise<number> {
  let o: BenchOptions;
  try {
    o = parseBenchOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n${BENCH_USAGE}`);
    return 2;
  }
  if (o.help) {
    process.stdout.write(BENCH_USAGE);
    return 0;
  }
  const started = performance.now();
  const stack = await timed('starting the database server and the receiver', () => openBenchStack({ full: o.full, env: process.env }));
  const f: Figures = {};
  try {
    const machine = await describeMachine(stack.admin, stack.server.kind);
    await agentFigures(stack, o, f);
    if (o.only.has(4)) {
      f.triggerOverhead = await timed('4. trigger overhead', () =>
        measureTriggerOverhead({ serverUrl: stack.server.url, studies: o.triggerStudies, cycles: o.triggerCycles }));
    }
    if (o.only.has(5)) f.ingest = await timed('5. receiver ingest', () => ingestFigures(stack.server.url, o.ingestRecords));
    if (o.only.has(6)) f.queries = await timed('6. query latency', () => queryFigures(stack.server.url, o.queryStudies));
    if (o.only.has(8)) f.dimseCrawl = await timed(`8. dimse crawl of ${o.dimseStudies} studies in Orthanc`, () => measureDimseCrawl(stack, o.dimseStudies));
    const table = tableRows(f, o.full, o.queryStudies);
    const results = {
      date: new Date().toISOString(),
      mode: o.full ? 'full' : 'quick',
      command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      durationSeconds: Math.round((performance.now() - started) / 1000),
      machine,
      options: { ...o, only: [...o.only] },
      notes: {
        legacy: 'Legacy client without its 2 s sleep every 1000 posts; posts over a sample, total time extrapolated from the measured per-post time.',
        changeLatency: 'Legacy comparison is analytical: cron every 5 minutes, new studies only (later changes never reach it).',
        dimseCrawl: 'Orthanc 1.10 (--verbose) as the PACS; C-FIND counted from its log; loading it (generateSeconds, uploadSeconds) not in the rate.',
      },
      figures: f,
      table,
    };
    writeFileSync(o.out, `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(`\n${formatTable(table)}\n\n${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.os}; ` +
      `Node ${machine.node}, ${machine.database}. Results: ${o.out} (${results.durationSeconds} s)\n`);
    return 0;
  } finally {
    await stack.close();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
