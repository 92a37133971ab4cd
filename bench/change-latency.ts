import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import { AGENT_CLI, stopChild } from '../scripts/demo/processes.js';
import { Dcm4cheeWriter } from '../test/helpers/dcm4chee-writer.js';
import { agentEnv, type BenchStack, type Centre } from './bench-stack.js';
import { withDatabase } from '../scripts/lib/mysql-url.js';
import { spawnCli } from './measured-child.js';
import { percentile } from './stats.js';

export interface ChangeLatencyOptions {
  changes: number;
  /** Writes started per second (a steady pace). */
  perSecond: number;
  /** How often each pending study is looked up in the query API. */
  pollMs?: number;
}

export interface ChangeLatencyResult {
  changes: number;
  perSecond: number;
  pollMs: number;
  schedule: string;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  /** Changes not visible within the give-up time (counted, not in the percentiles). */
  timedOut: number;
}

const SCHEDULE = '* * * * * *';
const GIVE_UP_MS = 30_000;

/** Waits for a line of the child's stderr matching `text`, or fails after `ms`. */
function waitForLog(lines: () => string, text: string, ms: number): Promise<void> {
  return (async () => {
    for (let waited = 0; waited < ms; waited += 50) {
      if (lines().includes(text)) return;
      await sleep(50);
    }
    throw new Error(`daemon did not log "${text}" within ${ms} ms`);
  })();
}

/** Polls GET /api/v2/studies?study_iuid= until the study is there with its series counted. */
async function visibleAfter(stack: BenchStack, iuid: string, committedAt: number, pollMs: number): Promise<number | null> {
  const url = `${stack.base}/api/v2/studies?study_iuid=${encodeURIComponent(iuid)}`;
  const headers = { authorization: `Bearer ${stack.readToken}` };
  while (performance.now() - committedAt < GIVE_UP_MS) {
    const res = await fetch(url, { headers });
    const body = (await res.json()) as { items?: { study_series?: number }[] };
    const now = performance.now();
    if (res.ok && (body.items?.[0]?.study_series ?? 0) >= 1) return now - committedAt;
    await sleep(pollMs);
  }
  return null;
}

/**
 * Figure 3: `indexer daemon` on a 1-second schedule while a dcm4chee-like writer stores new
 * studies (bare INSERT, then a series and the derived-field UPDATE) at a steady pace. Latency is
 * from the commit of the study's last write to the query API returning it with that series.
 */
export async function measureChangeLatency(stack: BenchStack, centre: Centre, opts: ChangeLatencyOptions): Promise<ChangeLatencyResult> {
  const pollMs = opts.pollMs ?? 50;
  const daemon = spawnCli(AGENT_CLI, ['daemon'], agentEnv(stack, centre, { INDEXER_SCHEDULE: SCHEDULE }));
  let log = '';
  daemon.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
  daemon.stdout?.resume();
  const conn = await mysql.createConnection({ uri: withDatabase(stack.server.url, centre.db), charset: 'utf8mb4' });
  try {
    await waitForLog(() => log, 'sync pass finished', 30_000);
    const [patients] = await conn.query<mysql.RowDataPacket[]>('SELECT pk FROM patient ORDER BY pk LIMIT 500');
    const writer = new Dcm4cheeWriter(conn);
    const latencies: Promise<number | null>[] = [];
    const start = performance.now();
    for (let i = 0; i < opts.changes; i += 1) {
      const due = start + (i * 1000) / opts.perSecond;
      if (due > performance.now()) await sleep(due - performance.now());
      const iuid = writer.uid();
      const studyPk = await writer.storeStudy(Number(patients[i % patients.length]!.pk), { iuid, desc: 'TC DE TÓRAX', accession: `LAT${i}` });
      await writer.addSeries(studyPk, { modality: i % 2 ? 'CT' : 'MR', instances: 2 });
      latencies.push(visibleAfter(stack, iuid, performance.now(), pollMs));
    }
    const measured = await Promise.all(latencies);
    const ok = measured.filter((v): v is number => v !== null);
    return {
      changes: opts.changes, perSecond: opts.perSecond, pollMs, schedule: SCHEDULE,
      p50Ms: percentile(ok, 50), p95Ms: percentile(ok, 95), maxMs: Math.max(...ok), timedOut: measured.length - ok.length,
    };
  } finally {
    await conn.end().catch(() => undefined);
    await stopChild(daemon);
  }
}
