import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueCount } from '../support/agent-harness.js';
import { FaultLedger, describeRun } from '../../faults/support/agent-runs.js';
import { createFaultBed, expectReceiverEqualsSource, type FaultBed } from '../../faults/support/fault-bed.js';
import { faultSeed } from '../../faults/support/prng.js';

/**
 * A reset change queue (TRUNCATE, or dropped and recreated) is found from queue positions alone,
 * whatever the clocks say: `check` fails until a reconcile that began after the reset repaired it,
 * and a second reset after that repair is found again, even within the same second.
 */
const ledger = new FaultLedger('queue-reset');
const seed = faultSeed(0x5eed_1801);

describe('a reset change queue is found by position, not by time', { timeout: 120_000 }, () => {
  let bed: FaultBed;
  const run = (args: string[]) => ledger.run(args, bed.dir);
  const truncateAfterChanges = async () => {
    await bed.writer.churn(20);
    expect(await queueCount(bed.site.conn)).toBeGreaterThan(0);
    await bed.site.conn.query('TRUNCATE TABLE study_service');
    await bed.writer.addStudies(2);
  };
  const expectCheck = async (code: number) => {
    const r = await run(['check']);
    expect(r.code, describeRun(r) + r.stdout).toBe(code);
    if (code === 3) expect(r.stdout).toMatch(/FAIL\s+change queue study_service was truncated or recreated/);
    else expect(r.stdout).not.toMatch(/truncated or recreated/);
  };

  beforeAll(async () => {
    bed = await createFaultBed('queue_reset', seed);
    await bed.writer.addStudies(40);
    const first = await run(['initial']);
    expect(first.code, describeRun(first)).toBe(0);
  });
  afterAll(async () => {
    await bed?.close();
  });

  it('a reconcile reported as finished later than the last acknowledgement hides no later truncation', async () => {
    // The clock-based check took any reconcile finished at or after the acknowledgement's second
    // as the repair; a clock ahead of the database's (or the same second) made that always true.
    await bed.writer.churn(10);
    expect((await run(['sync'])).code).toBe(0);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    await bed.site.conn.query(
      "INSERT INTO indexer_state (name, value, updated_at) VALUES ('reconcile.last', ?, NOW()) ON DUPLICATE KEY UPDATE value = VALUES(value)",
      [JSON.stringify({ command: 'reconcile', ok: true, dry_run: false, started_at: future, finished_at: future })],
    );
    expect((await run(['sync'])).code).toBe(0);
    await truncateAfterChanges();
    await expectCheck(3);
  });

  it('a dry run repairs nothing and so clears nothing', async () => {
    const dry = await run(['reconcile', '--dry-run']);
    expect(dry.code, describeRun(dry)).toBe(0);
    await expectCheck(3);
  });

  it('a reconcile after the reset clears it; a second reset right after is found again', async () => {
    const repair = await run(['reconcile']);
    expect(repair.code, describeRun(repair)).toBe(0);
    await expectCheck(0);
    expect((await run(['sync'])).code).toBe(0);
    await expectReceiverEqualsSource(ledger, bed.receiver.base, bed.token, bed.writer, bed.site.conn);
    // Within moments of the repair, as an operator's script would: no clock can tell these apart.
    await truncateAfterChanges();
    // A sync delivers what was queued since, then reports the reset itself (exit 3), as check does.
    const sync = await run(['sync']);
    expect(sync.code, describeRun(sync)).toBe(3);
    expect(sync.stderr).toContain('change queue study_service was truncated or recreated');
    await expectCheck(3);
    expect((await run(['reconcile'])).code).toBe(0);
    expect((await run(['sync'])).code).toBe(0);
    await expectCheck(0);
    await expectReceiverEqualsSource(ledger, bed.receiver.base, bed.token, bed.writer, bed.site.conn);
  });

  it('a queue dropped and recreated by `indexer install` is found the same way', async () => {
    await bed.writer.churn(10);
    expect((await run(['sync'])).code).toBe(0);
    await bed.site.conn.query('DROP TABLE study_service');
    expect((await run(['install'])).code).toBe(0);
    await bed.writer.addStudies(1);
    await expectCheck(3);
    expect((await run(['reconcile'])).code).toBe(0);
    await expectCheck(0);
    expect((await run(['sync'])).code).toBe(0);
    await expectReceiverEqualsSource(ledger, bed.receiver.base, bed.token, bed.writer, bed.site.conn);
  });

  it('no log line carries a patient name, ID or birth date', () => {
    expect(ledger.lines.length).toBeGreaterThan(0);
    expect(bed.ids.findLeaks(ledger.lines)).toEqual([]);
  });
});
