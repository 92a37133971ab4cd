import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dcm4cheeWriter } from '../helpers/dcm4chee-writer.js';
import type { TestDatabase } from '../helpers/mysql.js';
import { createSite, queueCount, runCli, stateValue, writeSiteConfig } from '../agent/support/agent-harness.js';
import { addCenter, startReceiver, type Receiver } from '../helpers/receiver-harness.js';

/**
 * One poison row in a dcm4chee pacsdb, as the PACS columns allow it (latin1 VARCHAR(250), INT
 * counts), must not stall the centre: the built agent's `sync` against the real receiver exits 0,
 * the healthy studies arrive, the poison one becomes a dead letter, later syncs move on.
 */
describe('a poison PACS row through the agent to the real receiver', () => {
  let rx: Receiver;
  let db: TestDatabase;
  let dir: string;
  let writer: Dcm4cheeWriter;

  beforeAll(async () => {
    rx = await startReceiver('e2e_poison_rx');
    const key = await addCenter(rx.store, '001');
    db = await createSite('fixture', 'e2e_poison');
    // dcm4chee 2.x sites run without strict mode: zero dates and the like get in.
    await db.conn.query("SET SESSION sql_mode = ''");
    dir = writeSiteConfig(db, { url: rx.base, key }, '001');
    writer = new Dcm4cheeWriter(db.conn);
    expect((await runCli(['initial'], dir)).code).toBe(0);
  });
  afterAll(async () => {
    await db?.drop();
    await rx?.close();
  });

  const iuidOf = async (pk: number) => {
    const [rows] = await db.conn.query<mysql.RowDataPacket[]>('SELECT study_iuid FROM study WHERE pk = ?', [pk]);
    return String(rows[0]!.study_iuid);
  };
  const held = async (iuid: string) => {
    const [rows] = await rx.pool.query<mysql.RowDataPacket[]>('SELECT * FROM studies WHERE study_iuid = ?', [iuid]);
    return rows[0];
  };
  const deadLetters = async () => {
    const [rows] = await db.conn.query<mysql.RowDataPacket[]>('SELECT study_pk, reason FROM indexer_dead_letter ORDER BY id');
    return rows;
  };
  async function study(patId: string, name: string, over: { datetime?: string } = {}): Promise<number> {
    const p = await writer.createPatient({ patId, name, birthdate: '19800101' });
    const s = await writer.storeStudy(p, { datetime: over.datetime ?? '2024-05-01 09:00:00', desc: 'TC' });
    await writer.addSeries(s, { modality: 'CT', instances: 3 });
    return s;
  }

  it('sync exits 0: healthy studies stored, the poison one dead-lettered, the odd ones stored normalised', async () => {
    const before = await study('11.111.111-1', 'SANO^UNO');
    // 200 × latin1 ß: fits pat_id and the receiver's patient_id, but its key (upper-cased) is 400 characters.
    const poison = await study('ß'.repeat(200), 'VENENO^UNO');
    const negative = await study('22.222.222-2', 'RARO^CUENTA');
    await db.conn.query('UPDATE study SET num_instances = -5, num_series = 2147483647 WHERE pk = ?', [negative]);
    const zeroDate = await study('33.333.333-3', 'CERO^FECHA', { datetime: '0000-00-00 00:00:00' });
    const after = await study('44.444.444-4', 'SANO^DOS');

    const res = await runCli(['sync'], dir);
    expect(res.code, res.stderr.slice(-2000)).toBe(0);
    for (const pk of [before, after]) expect(await held(await iuidOf(pk)), `study ${pk}`).toBeDefined();
    expect(await held(await iuidOf(poison))).toBeUndefined();
    expect(await held(await iuidOf(negative))).toMatchObject({ study_instances: null, study_series: 2147483647 });
    expect(await held(await iuidOf(zeroDate))).toMatchObject({ study_datetime: null, sort_at: '1000-01-01 00:00:00' });
    const letters = await deadLetters();
    expect(letters.map((l) => Number(l.study_pk))).toEqual([poison]);
    expect(String(letters[0]!.reason)).toMatch(/patient_id/);
    expect(String(letters[0]!.reason)).not.toContain('ß');
    expect(await queueCount(db.conn)).toBe(0);
    const summary = JSON.parse((await stateValue(db.conn, 'last_run'))!) as Record<string, unknown>;
    expect(summary).toMatchObject({ ok: true, rejected: 1, invalid: { invalid_study_datetime: 1, invalid_count: 1 } });
  });

  it('the next syncs do not retry it and the feed keeps moving', async () => {
    expect((await runCli(['sync'], dir)).code).toBe(0);
    const later = await study('55.555.555-5', 'SANO^TRES');
    const res = await runCli(['sync'], dir);
    expect(res.code, res.stderr.slice(-2000)).toBe(0);
    expect(await held(await iuidOf(later))).toBeDefined();
    expect(await deadLetters()).toHaveLength(1);
    const summary = JSON.parse((await stateValue(db.conn, 'last_run'))!) as Record<string, unknown>;
    expect(summary).toMatchObject({ ok: true, rejected: 0 });
  });
});
