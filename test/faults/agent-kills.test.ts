import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultLedger, describeRun } from './support/agent-runs.js';
import { createFaultBed, expectDrained, expectReceiverEqualsSource, type FaultBed } from './support/fault-bed.js';
import { faultSeed } from './support/prng.js';

/**
 * SIGKILL of the built agent at random points of `initial` and `sync` (delays from a seeded PRNG;
 * FAULT_SEED=n reproduces a run), the proxy adding latency so kills land mid-pass, writes going on
 * at the PACS meanwhile; then a clean rerun: nothing lost, nothing duplicated, content equal.
 */
const ledger = new FaultLedger('agent-kills');
const MIN_KILLS = 12;
const MAX_ATTEMPTS = 40;

interface KillOutcome {
  killed: boolean;
  midPass: boolean;
}

/**
 * Where to kill: after the receiver saw `requests` more posts (0: at any time, startup included),
 * then `ms` later. Measuring in posts makes most kills land mid-pass whatever the machine's speed.
 */
interface KillPoint {
  requests: number;
  ms: number;
}

function randomKillPoint(bed: FaultBed, maxRequests: number): KillPoint {
  return bed.rng.chance(0.25) ? { requests: 0, ms: bed.rng.int(20, 900) } : { requests: bed.rng.int(1, maxRequests), ms: bed.rng.int(0, 80) };
}

async function reached(bed: FaultBed, target: number, done: Promise<unknown>): Promise<boolean> {
  let finished = false;
  void done.then(() => (finished = true));
  // Bounded: a pass that stops posting ends by itself, and the wait gives up after 60 s.
  for (let i = 0; i < 12_000 && !finished; i++) {
    if (bed.proxy.counts.requests >= target) return true;
    await sleep(5);
  }
  return false;
}

/** One agent run killed at `point` unless it finished first (then it must have succeeded). */
async function runAndMaybeKill(bed: FaultBed, args: string[], point: KillPoint): Promise<KillOutcome> {
  const before = bed.proxy.counts.requests;
  const run = ledger.spawn(args, bed.dir);
  let finished = point.requests > 0 && !(await reached(bed, before + point.requests, run.done));
  if (!finished) finished = await Promise.race([run.done.then(() => true), sleep(point.ms).then(() => false)]);
  if (!finished) run.child.kill('SIGKILL');
  const result = await run.done;
  if (result.signal === 'SIGKILL') {
    ledger.counts.kills += 1;
    const midPass = bed.proxy.counts.requests > before;
    if (midPass) ledger.counts.killsMidPass += 1;
    return { killed: true, midPass };
  }
  expect(result.code, describeRun(result)).toBe(0);
  return { killed: false, midPass: false };
}

describe('agent killed (SIGKILL) at random points of initial and sync', { timeout: 240_000 }, () => {
  let bed: FaultBed;
  const seed = faultSeed(0x5eed_0006);

  beforeAll(async () => {
    // Small chunks and batches behind a slow link: a pass takes seconds, a kill lands inside it.
    bed = await createFaultBed('fault_kill', seed, { read_chunk: 20, batch_size: 5, max_in_flight: 2 });
    bed.proxy.latencyMs = 40;
    await bed.writer.addStudies(300);
  });
  afterAll(async () => {
    await bed?.close();
    console.log(ledger.summary({ seed }));
  });

  it(`survives at least ${MIN_KILLS} kills, then a clean run leaves the receiver equal to the source`, async () => {
    ledger.counts.cases += 1;
    let initialKills = 0;
    let initialDone = false;
    for (let i = 0; i < MAX_ATTEMPTS && !initialDone; i++) {
      const outcome = await runAndMaybeKill(bed, ['initial'], randomKillPoint(bed, 16));
      if (outcome.killed) initialKills += 1;
      else initialDone = true;
    }
    expect(initialDone, 'initial never completed between kills').toBe(true);

    let syncKills = 0;
    for (let i = 0; i < MAX_ATTEMPTS && (ledger.counts.kills < MIN_KILLS || syncKills < 4); i++) {
      // The PACS keeps writing while the agent runs and dies.
      const writes = bed.writer.churn(bed.rng.int(10, 40));
      const outcome = await runAndMaybeKill(bed, ['sync'], randomKillPoint(bed, 6));
      await writes;
      if (outcome.killed) syncKills += 1;
    }
    expect(initialKills).toBeGreaterThan(0);
    expect(syncKills).toBeGreaterThanOrEqual(4);
    expect(ledger.counts.kills).toBeGreaterThanOrEqual(MIN_KILLS);
    expect(ledger.counts.killsMidPass).toBeGreaterThanOrEqual(MIN_KILLS / 2);

    bed.proxy.latencyMs = 0;
    const clean = await ledger.run(['sync'], bed.dir);
    expect(clean.code, describeRun(clean)).toBe(0);
    await expectDrained(bed.site.conn);
    await expectReceiverEqualsSource(ledger, bed.receiver.base, bed.token, bed.writer, bed.site.conn);
  });

  it('no agent log line carries a patient name, ID or birth date', () => {
    ledger.counts.cases += 1;
    ledger.collect(bed.receiver.logLines.join('\n'));
    expect(ledger.lines.length).toBeGreaterThan(0);
    expect(bed.ids.size).toBeGreaterThan(100);
    expect(bed.ids.findLeaks(ledger.lines)).toEqual([]);
  });
});
