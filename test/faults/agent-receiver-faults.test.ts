import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSite, queueCount, stateValue, writeSiteConfig } from '../agent/support/agent-harness.js';
import type { TestDatabase } from '../helpers/mysql.js';
import { FaultLedger, describeRun } from './support/agent-runs.js';
import { FAULT_CENTER, createFaultBed, expectDrained, expectReceiverEqualsSource, type FaultBed } from './support/fault-bed.js';
import { FaultSiteWriter } from './support/fault-site.js';
import { startFaultProxy, type FaultProxy, type ProxyFault } from '../helpers/fault-proxy.js';
import { PatientDataRegistry } from './support/patient-data.js';
import { Prng, faultSeed } from './support/prng.js';
import { ReceiverProcess } from './support/receiver-process.js';

/**
 * The receiver misbehaving: through the fault proxy (500, 503, 429 with Retry-After, hanging,
 * connections closed mid-request, answers lost after the receiver stored), briefly (the agent's
 * retries ride it out) and for good (the pass fails cleanly, nothing acknowledged, the next run
 * completes); and the receiver process itself killed or stopped mid-pass and started again.
 */
const ledger = new FaultLedger('agent-receiver-faults');
const seed = faultSeed(0x5eed_0601);
/** Retries that run out quickly: the "receiver gone for good" cases. */
const FEW_RETRIES = { INDEXER_HTTP_RETRIES: '1' };

const TRANSIENT: [string, ProxyFault, number][] = [
  ['HTTP 500', { kind: 'status', status: 500 }, 3],
  ['HTTP 503', { kind: 'status', status: 503 }, 2],
  ['HTTP 429 with Retry-After', { kind: 'status', status: 429, headers: { 'retry-after': '1' } }, 3],
  ['a hanging receiver', { kind: 'hang' }, 2],
  ['connections closed mid-request', { kind: 'close' }, 3],
  ['answers lost after the receiver stored', { kind: 'drop-answer' }, 3],
];

const PERSISTENT: [string, ProxyFault][] = [
  ['HTTP 500', { kind: 'status', status: 500 }],
  ['HTTP 429 with Retry-After', { kind: 'status', status: 429, headers: { 'retry-after': '2' } }],
  ['a hanging receiver', { kind: 'hang' }],
  ['connections closed mid-request', { kind: 'close' }],
];

/** Every identity written in this file, for the final log audit. */
const registries: PatientDataRegistry[] = [];
let receiverProcess: ReceiverProcess | undefined;

afterAll(() => {
  console.log(ledger.summary({ seed }));
});

describe('receiver faults through the proxy', { timeout: 120_000 }, () => {
  let bed: FaultBed;

  beforeAll(async () => {
    bed = await createFaultBed('fault_rx', seed, { read_chunk: 30, batch_size: 10 });
    registries.push(bed.ids);
    await bed.writer.addStudies(120);
  });
  afterAll(async () => {
    ledger.collect(bed?.receiver.logLines.join('\n') ?? '');
    await bed?.close();
  });

  const check = () => expectReceiverEqualsSource(ledger, bed.receiver.base, bed.token, bed.writer, bed.site.conn);

  it('initial rides out a burst of 500s', async () => {
    ledger.counts.cases += 1;
    bed.proxy.inject({ kind: 'status', status: 500 }, { count: 4 });
    const r = await ledger.run(['initial'], bed.dir);
    expect(r.code, describeRun(r)).toBe(0);
    expect(bed.proxy.pending).toBe(0);
    ledger.counts.proxyFaults += 4;
    await check();
  });

  it.each(TRANSIENT)('sync rides out %s (retries, then success)', async (_name, fault, count) => {
    ledger.counts.cases += 1;
    await bed.writer.churn(25);
    const before = { ...bed.proxy.counts };
    bed.proxy.inject(fault, { count });
    const r = await ledger.run(['sync'], bed.dir);
    expect(r.code, describeRun(r)).toBe(0);
    expect(bed.proxy.pending).toBe(0);
    expect(bed.proxy.counts.requests - before.requests).toBeGreaterThan(count);
    ledger.counts.proxyFaults += count;
    await expectDrained(bed.site.conn);
    await check();
  });

  it.each(PERSISTENT)('sync facing %s for good fails cleanly (exit 6, nothing acknowledged); the next run completes', async (_name, fault) => {
    ledger.counts.cases += 1;
    await bed.writer.churn(20);
    const backlog = await queueCount(bed.site.conn);
    const acked = await stateValue(bed.site.conn, 'sync.last_ack_seq');
    expect(backlog).toBeGreaterThan(0);
    bed.proxy.inject(fault, { forMs: 10 * 60_000 });
    const failed = await ledger.run(['sync'], bed.dir, FEW_RETRIES);
    bed.proxy.clear();
    ledger.counts.proxyFaults += 2;
    expect(failed.code, describeRun(failed)).toBe(6);
    expect(failed.stderr).toMatch(/receiver http:\/\/127\.0\.0\.1:\d+ unavailable after 2 attempts/);
    expect(await queueCount(bed.site.conn)).toBe(backlog);
    expect(await stateValue(bed.site.conn, 'sync.last_ack_seq')).toBe(acked);
    const next = await ledger.run(['sync'], bed.dir);
    expect(next.code, describeRun(next)).toBe(0);
    await expectDrained(bed.site.conn);
    await check();
  });
});

describe('receiver process killed or stopped mid-pass, then started again on the same port', { timeout: 120_000 }, () => {
  let rp: ReceiverProcess;
  let site: TestDatabase;
  let proxy: FaultProxy;
  let dir: string;
  let writer: FaultSiteWriter;
  let ids: PatientDataRegistry;
  const token = 'fault-suite-read-token-0123456789';

  beforeAll(async () => {
    rp = await ReceiverProcess.create('fault_rxproc', (t) => ledger.collect(t));
    receiverProcess = rp;
    await rp.admin(['migrate']);
    const key = (await rp.admin(['centers', 'add', FAULT_CENTER])).trim().split('\n').pop()!;
    await rp.admin(['tokens', 'add', 'fault-suite', '--token', token]);
    await rp.start();
    site = await createSite('fixture', 'fault_rxproc');
    await site.conn.query("SET SESSION sql_mode = ''");
    proxy = await startFaultProxy(rp.base);
    proxy.latencyMs = 30;
    // Patient enough to outlast a restart (about 6 s of backoff), small batches for a long pass.
    dir = writeSiteConfig(site, {
      url: proxy.url, key, read_chunk: 20, batch_size: 5,
      http: { retries: 10, min_backoff_ms: 100, max_backoff_ms: 800, timeout_ms: 1500 },
    }, FAULT_CENTER);
    const rng = new Prng(seed + 1);
    ids = new PatientDataRegistry(rng);
    registries.push(ids);
    writer = new FaultSiteWriter(site.conn, rng, ids);
    await writer.addStudies(200);
  });
  afterAll(async () => {
    await proxy?.close();
    await rp?.close();
    await site?.drop();
  });

  const check = () => expectReceiverEqualsSource(ledger, rp.base, token, writer, site.conn);

  async function restartMidPass(args: string[], signal: 'SIGKILL' | 'SIGTERM', afterPosts: number): Promise<void> {
    const before = proxy.counts.forwarded;
    const run = ledger.spawn(args, dir);
    for (let i = 0; i < 6000 && proxy.counts.forwarded < before + afterPosts && run.child.exitCode === null; i++) await sleep(5);
    expect(run.child.exitCode, 'the pass ended before the receiver could be stopped').toBeNull();
    await rp.stop(signal);
    ledger.counts.receiverRestarts += 1;
    await sleep(300);
    await rp.start();
    const r = await run.done;
    expect(r.code, describeRun(r)).toBe(0);
  }

  it('initial survives the receiver killed (SIGKILL) mid-pass', async () => {
    ledger.counts.cases += 1;
    await restartMidPass(['initial'], 'SIGKILL', 8);
    expect((await ledger.run(['sync'], dir)).code).toBe(0);
    await check();
  });

  it('sync survives the receiver stopped (SIGTERM) and killed mid-pass', async () => {
    ledger.counts.cases += 1;
    await writer.churn(80);
    await restartMidPass(['sync'], 'SIGTERM', 3);
    await writer.churn(80);
    await restartMidPass(['sync'], 'SIGKILL', 5);
    await expectDrained(site.conn);
    await check();
  });

  it('a receiver down for longer than the retries: the pass fails cleanly (exit 6), the next completes', async () => {
    ledger.counts.cases += 1;
    await writer.churn(20);
    const backlog = await queueCount(site.conn);
    await rp.stop('SIGKILL');
    const failed = await ledger.run(['sync'], dir, FEW_RETRIES);
    expect(failed.code, describeRun(failed)).toBe(6);
    expect(await queueCount(site.conn)).toBe(backlog);
    await rp.start();
    ledger.counts.receiverRestarts += 1;
    expect((await ledger.run(['sync'], dir)).code).toBe(0);
    await expectDrained(site.conn);
    await check();
  });
});

describe('logs', () => {
  it('no log line of the agents or the receiver carries a patient name, ID or birth date', async () => {
    ledger.counts.cases += 1;
    // The receiver child's output is collected when it exits.
    await receiverProcess?.stop('SIGTERM');
    expect(ledger.lines.length).toBeGreaterThan(0);
    expect(registries).toHaveLength(2);
    for (const ids of registries) expect(ids.findLeaks(ledger.lines)).toEqual([]);
  });
});
