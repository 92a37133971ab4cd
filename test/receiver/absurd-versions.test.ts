import { readFileSync } from 'node:fs';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateRecord } from '../../src/receiver/record-validation.js';
import { MAX_SOURCE_SEQ, MAX_VERSION_FLOOR } from '../../src/shared/record-limits.js';
import { addCenter, bearer, http, record, startReceiver, type Receiver } from './receiver-harness.js';

/**
 * The recovery docs/receiver.md gives for a centre whose stored versions went past the maximum
 * (posted before the limit existed) or above the agent's ceiling (MAX_VERSION_FLOOR: a record at
 * the receiver's maximum is accepted and poisons the centre as well): its SQL block, run as written,
 * brings the floor back under the ceiling, touches no other centre, deletes nothing, and the
 * centre's next versions win again.
 */
function recoverySql(): string[] {
  const doc = readFileSync('docs/receiver.md', 'utf8');
  const section = doc.slice(doc.indexOf('**Absurd versions (recovery).**'));
  const block = /```sql\n([\s\S]*?)```/.exec(section)![1]!;
  return block.split(';').map((s) => s.replace(/^\s+/gm, '').trim()).filter(Boolean);
}

let rx: Receiver;
let key: string;
beforeAll(async () => {
  rx = await startReceiver('rx_absurd');
  key = await addCenter(rx.store, '001');
  await addCenter(rx.store, '002');
});
afterAll(async () => {
  await rx?.close();
});

const centerId = async (code: string) => {
  const [[c]] = await rx.pool.query<RowDataPacket[]>('SELECT id FROM centers WHERE code = ?', [code]);
  return Number(c!.id);
};
async function runRecovery(): Promise<void> {
  const conn = await rx.pool.getConnection();
  try {
    for (const statement of recoverySql()) await conn.query(statement);
  } finally {
    conn.release();
  }
}
const floor = async () => (await http(rx.base, 'GET', '/api/v2/centers/001/source-seq', { headers: bearer(key) })).json.highest_source_seq;

describe('recovering a centre whose versions are absurd', () => {
  it('the documented SQL lowers only the absurd rows and the floor; the next versions are stored', async () => {
    expect((await http(rx.base, 'POST', '/api/v2/centers/001/studies', { headers: bearer(key), json: { records: [record('1.1', 40)] } })).json.stored).toBe(1);
    // As stored before the receiver refused such versions: straight through the store.
    for (const [code, iuid] of [['001', '1.2'], ['002', '2.1']] as const) {
      const v = validateRecord(record(iuid, 1), code);
      if (!v.ok) throw new Error(v.reason);
      await rx.store.upsert(await centerId(code), [{ ...v.version, source_seq: Number.MAX_SAFE_INTEGER }]);
    }
    expect(await floor()).toBe(Number.MAX_SAFE_INTEGER);
    // Accepted by today's receiver, yet above what the agent can allocate above: poisoned too.
    const atMax = await http(rx.base, 'POST', '/api/v2/centers/001/studies', { headers: bearer(key), json: { records: [record('1.3', MAX_SOURCE_SEQ), record('1.4', MAX_VERSION_FLOOR + 1)] } });
    expect(atMax.json.stored).toBe(2);

    await runRecovery();

    expect(await floor()).toBe(40);
    expect(await floor()).toBeLessThanOrEqual(MAX_SOURCE_SEQ);
    const [rows] = await rx.pool.query<RowDataPacket[]>('SELECT study_iuid, CAST(source_seq AS CHAR) AS seq FROM studies ORDER BY study_iuid');
    expect(rows.map((r) => [r.study_iuid, r.seq])).toEqual([['1.1', '40'], ['1.2', '0'], ['1.3', '0'], ['1.4', '0'], ['2.1', String(Number.MAX_SAFE_INTEGER)]]);
    const next = await http(rx.base, 'POST', '/api/v2/centers/001/studies', { headers: bearer(key), json: { records: [record('1.2', 41, { study_description: 'NUEVA' })] } });
    expect(next.json).toMatchObject({ stored: 1, stale: 0 });
  });

  it('a version exactly at the agent\'s ceiling is a floor the agent accepts: the SQL leaves it', async () => {
    expect((await http(rx.base, 'POST', '/api/v2/centers/001/studies', { headers: bearer(key), json: { records: [record('1.5', MAX_VERSION_FLOOR)] } })).json.stored).toBe(1);
    await runRecovery();
    expect(await floor()).toBe(MAX_VERSION_FLOOR);
  });
});
