import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import mysql from 'mysql2/promise';
import { installCapture, uninstallCapture } from '../src/agent/sources/dcm4chee/capture-objects.js';
import { createLogger } from '../src/shared/logger.js';
import { Dcm4cheeWriter } from '../test/helpers/dcm4chee-writer.js';
import { writeMix } from '../test/helpers/dcm4chee-write-mix.js';
import { mysqlOptions } from '../scripts/lib/mysql-url.js';
import { SCHEMA_FILE, repoRoot } from '../scripts/seed/schema.js';

// Fixture scripts run whole (multiple statements); dates stay strings as in the tests.
const connectionOptions = (url: string, database?: string) =>
  mysqlOptions(url, database, { multipleStatements: true, dateStrings: true });

/**
 * PACS write throughput with the capture triggers relative to without: the same dcm4chee-like
 * write mix, on the same database, alternating A-B-B-A so growth of the tables does not favour
 * either side. Target: ratio >= 0.90. A measurement, not a test.
 */
export interface TriggerOverheadOptions {
  /** mysql://user:pass@host:port/ of a server where a scratch database may be created and dropped. */
  serverUrl: string;
  /** Studies per measured run (each: 2 series, check, some renames/merges/deletes). */
  studies?: number;
  /** A-B-B-A cycles. */
  cycles?: number;
}

export interface TriggerOverheadResult {
  studies: number;
  cycles: number;
  withoutTriggersStudiesPerSecond: number;
  withTriggersStudiesPerSecond: number;
  /** with / without throughput. */
  ratio: number;
  target: number;
  meetsTarget: boolean;
}

const TARGET = 0.9;
const silent = createLogger({ level: 'silent' });

async function timedRun(conn: mysql.Connection, studies: number): Promise<number> {
  const writer = new Dcm4cheeWriter(conn);
  const start = performance.now();
  await writeMix(writer, studies);
  return (performance.now() - start) / 1000;
}

export async function measureTriggerOverhead(options: TriggerOverheadOptions): Promise<TriggerOverheadResult> {
  const studies = options.studies ?? 300;
  const cycles = options.cycles ?? 2;
  const name = `bench_trigger_overhead_${process.pid}`;
  const admin = await mysql.createConnection(connectionOptions(options.serverUrl));
  await admin.query(`DROP DATABASE IF EXISTS \`${name}\`; CREATE DATABASE \`${name}\` DEFAULT CHARACTER SET latin1`);
  const conn = await mysql.createConnection(connectionOptions(options.serverUrl, name));
  try {
    await conn.query(readFileSync(join(repoRoot(), SCHEMA_FILE), 'utf8'));
    await timedRun(conn, Math.ceil(studies / 4)); // warm-up: buffer pool, statement paths
    let without = 0;
    let withTriggers = 0;
    for (let c = 0; c < cycles; c += 1) {
      for (const triggers of [false, true, true, false]) {
        if (triggers) await installCapture(conn, name, silent);
        else await uninstallCapture(conn, name, silent, { force: true }); // the queued changes are the benchmark's own
        const seconds = await timedRun(conn, studies);
        if (triggers) withTriggers += seconds;
        else without += seconds;
      }
    }
    const runs = cycles * 2 * studies;
    const ratio = without / withTriggers;
    return {
      studies,
      cycles,
      withoutTriggersStudiesPerSecond: runs / without,
      withTriggersStudiesPerSecond: runs / withTriggers,
      ratio,
      target: TARGET,
      meetsTarget: ratio >= TARGET,
    };
  } finally {
    await conn.end().catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS \`${name}\``).catch(() => undefined);
    await admin.end().catch(() => undefined);
  }
}

// Run alone: INDEXER_BENCH_MYSQL_URL=mysql://root@127.0.0.1:3306/ node dist/bench/trigger-overhead.js [studies]
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const serverUrl = process.env.INDEXER_BENCH_MYSQL_URL ?? process.env.INDEXER_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/';
  const studies = Number(process.argv[2] ?? 300);
  measureTriggerOverhead({ serverUrl, studies }).then(
    (result) => {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    },
    (err: unknown) => {
      process.stderr.write(`trigger-overhead: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
