import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dcm4cheeWriter } from '../../helpers/dcm4chee-writer.js';
import type { TestDatabase } from '../../helpers/mysql.js';
import { addCenter, addToken, bearer, http, startReceiver, type Receiver } from '../../receiver/receiver-harness.js';
import { createSite, runCli, writeSiteConfig } from '../support/agent-harness.js';
import { dropTriggers, expectHeldEqualsSource, reconcileReport, writeDays } from './support/reconcile-site.js';

const CODE = '007';

/** Everything the receiver holds for the centre, tombstones included, through the query API. */
async function heldRecords(receiver: Receiver, token: string): Promise<Map<string, Record<string, unknown>>> {
  const out = new Map<string, Record<string, unknown>>();
  let cursor: string | null = null;
  do {
    const q: string = `/api/v2/studies?center=${CODE}&include_deleted=true&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await http(receiver.base, 'GET', q, { headers: bearer(token) });
    expect(res.status, res.text).toBe(200);
    for (const item of res.json.items as Record<string, unknown>[]) out.set(String(item.study_iuid), item);
    cursor = res.json.next_cursor as string | null;
  } while (cursor);
  return out;
}

/**
 * The agent's reconcile against the real receiver (in-process, real HTTP, MariaDB on both sides).
 * Skipped, saying so, while the receiver does not serve /reconcile/days yet (404).
 */
describe('indexer reconcile against the real receiver', () => {
  let receiver: Receiver;
  let db: TestDatabase;
  let dir: string;
  let token: string;

  beforeAll(async () => {
    receiver = await startReceiver('reconcile_central');
    token = await addToken(receiver.store, 'central');
    const key = await addCenter(receiver.store, CODE);
    db = await createSite('fixture', 'reconcile_real');
    await db.conn.query("SET SESSION sql_mode = ''");
    dir = writeSiteConfig(db, { url: receiver.base, key }, CODE);
  });
  afterAll(async () => {
    await db?.drop();
    await receiver?.close();
  });

  it('repairs writes made without triggers (new, changed, re-dated, deleted) so the receiver equals the source', async () => {
    const writer = new Dcm4cheeWriter(db.conn);
    await writeDays(writer, db.conn, 40);
    // A date before year 1000 (no DATETIME column holds it): sent and stored as undated, like a
    // zero date, so no day is left that reconcile could not ask for.
    const ancient = await writer.storeStudy(1, { datetime: '0999-05-05 10:00:00' });
    expect((await runCli(['initial'], dir)).code).toBe(0);
    const clean = await runCli(['reconcile'], dir);
    expect(clean.code, clean.stderr).toBe(0);
    expect(reconcileReport(clean.stderr)).toMatchObject({ days_differing: 0, days_skipped: 0, resent: 0 });
    const [ancientRows] = await db.conn.query<mysql.RowDataPacket[]>('SELECT study_iuid FROM study WHERE pk = ?', [ancient]);
    expect((await heldRecords(receiver, token)).get(String(ancientRows[0]!.study_iuid))).toMatchObject({ study_datetime: null, deleted: false });
    await writer.deleteStudy(ancient);
    expect((await runCli(['sync'], dir)).code).toBe(0);

    await dropTriggers(db.conn);
    const [rows] = await db.conn.query<mysql.RowDataPacket[]>('SELECT pk FROM study ORDER BY pk');
    const pks = rows.map((r) => Number(r.pk));
    await writer.addSeries(await writer.storeStudy(1, { datetime: '2025-05-05 05:05:05' }), { modality: 'CT', instances: 3 });
    await writer.updateStudy(pks[0]!, { desc: 'SIN TRIGGER' });
    await writer.updateStudy(pks[1]!, { datetime: '2018-08-08 08:08:08' });
    await writer.deleteStudy(pks[2]!);
    expect((await runCli(['install'], dir)).code).toBe(0);
    await expect(expectHeldEqualsSource(await heldRecords(receiver, token), db.conn)).rejects.toThrow();

    const res = await runCli(['reconcile'], dir);
    expect(res.code, res.stderr).toBe(0);
    expect(reconcileReport(res.stderr)).toMatchObject({ missing: 2, different: 1, extra: 1, moved: 1, stale: 0, rejected: 0 });
    await expectHeldEqualsSource(await heldRecords(receiver, token), db.conn);
    const again = await runCli(['reconcile', '--dry-run'], dir);
    expect(reconcileReport(again.stderr, 'reconcile dry run finished')).toMatchObject({ days_differing: 0 });
  });
});
