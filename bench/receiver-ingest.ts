import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { Agent, request } from 'undici';
import { benchServerUrl, startBenchReceiver } from './receiver-bench-support.js';
import { patients, studies } from './receiver-data.js';

/**
 * Receiver ingest throughput: N centres post at once (one keep-alive connection each, batches of
 * 500 gzip-compressed records) into a freshly migrated database. Bodies are built and compressed
 * before the clock starts, so the figure is the receiver's (HTTP, gunzip, JSON, validation, SQL).
 * A measurement, not a test. Target: >= 20,000 records/s at 4 centres.
 */
export interface IngestOptions {
  /** mysql://user:pass@host:port/ of a server where a scratch database may be created and dropped. */
  url: string;
  centres: 1 | 4 | 16;
  /** Records in total, split evenly over the centres. */
  records: number;
  batchSize?: number;
}

export interface IngestResult {
  centres: number;
  records: number;
  batchSize: number;
  seconds: number;
  recordsPerSecond: number;
  /** Per-batch latency seen by the clients, ms. */
  batchP50Ms: number;
  batchMaxMs: number;
  target: number;
  meetsTarget: boolean;
}

const TARGET = 20_000;

function batchesOf(code: string, centreIndex: number, count: number, batchSize: number): Buffer[] {
  const people = patients(Math.max(100, Math.ceil(count / 3)), 11);
  const out: Buffer[] = [];
  for (let first = 0; first < count; first += batchSize) {
    const records = studies({ center: code, first, count: Math.min(batchSize, count - first), people, seed: centreIndex * 1_000_003 + first, sourceSeq: 1 + first });
    out.push(gzipSync(JSON.stringify({ records })));
  }
  return out;
}

async function postAll(dispatcher: Agent, base: string, code: string, key: string, bodies: Buffer[], latencies: number[]): Promise<void> {
  for (const body of bodies) {
    const t = performance.now();
    const res = await request(`${base}/api/v2/centers/${code}/studies`, {
      method: 'POST',
      dispatcher,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body,
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`centre ${code}: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
    latencies.push(performance.now() - t);
  }
}

export async function measureIngest(options: IngestOptions): Promise<IngestResult> {
  const batchSize = options.batchSize ?? 500;
  const perCentre = Math.ceil(options.records / options.centres);
  const rx = await startBenchReceiver(options.url, `rx_ingest_${options.centres}`);
  const dispatcher = new Agent({ connections: options.centres, pipelining: 1 });
  try {
    const codes = Array.from({ length: options.centres }, (_, i) => `C${String(i + 1).padStart(3, '0')}`);
    const keys = await Promise.all(codes.map((c) => rx.addCenter(c)));
    const bodies = codes.map((c, i) => batchesOf(c, i, perCentre, batchSize));
    // Warm-up outside the clock: JIT, pool connections, buffer pool pages of an empty table.
    const warm = batchesOf('WARM', 99, batchSize * 2, batchSize);
    await postAll(dispatcher, rx.base, 'WARM', await rx.addCenter('WARM'), warm, []);
    const latencies: number[] = [];
    const start = performance.now();
    await Promise.all(codes.map((c, i) => postAll(dispatcher, rx.base, c, keys[i]!, bodies[i]!, latencies)));
    const seconds = (performance.now() - start) / 1000;
    const records = perCentre * options.centres;
    latencies.sort((a, b) => a - b);
    return {
      centres: options.centres,
      records,
      batchSize,
      seconds: Math.round(seconds * 100) / 100,
      recordsPerSecond: Math.round(records / seconds),
      batchP50Ms: Math.round(latencies[Math.floor(latencies.length / 2)] ?? 0),
      batchMaxMs: Math.round(latencies.at(-1) ?? 0),
      target: TARGET,
      meetsTarget: options.centres !== 4 || records / seconds >= TARGET,
    };
  } finally {
    await dispatcher.close();
    await rx.close();
  }
}

// Run alone: INDEXER_BENCH_MYSQL_URL=mysql://root@127.0.0.1:3306/ node dist/bench/receiver-ingest.js [records] [centres...]
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const records = Number(process.argv[2] ?? 100_000);
  const centres = (process.argv.length > 3 ? process.argv.slice(3).map(Number) : [1, 4, 16]) as (1 | 4 | 16)[];
  (async () => {
    for (const c of centres) {
      const r = await measureIngest({ url: benchServerUrl(), centres: c, records });
      process.stdout.write(`${JSON.stringify(r)}\n`);
    }
  })().catch((err: unknown) => {
    process.stderr.write(`receiver-ingest: ${String(err)}\n`);
    process.exitCode = 1;
  });
}
