import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueCount, writeSiteConfig } from '../agent/support/agent-harness.js';
import type { TestDatabase } from '../helpers/mysql.js';
import { createPacsdb } from '../helpers/pacsdb.js';
import { http } from '../helpers/receiver-harness.js';
import { FaultLedger, describeRun } from '../faults/support/agent-runs.js';
import { FAULT_CENTER, PATIENT_HTTP, createFaultBed, expectReceiverEqualsSource, type FaultBed } from '../faults/support/fault-bed.js';
import { faultSeed } from '../faults/support/prng.js';

/**
 * Versions never go backwards for a centre, whatever happens to the PACS-side state: the built
 * agent against the real receiver (real HTTP, its own database) across uninstall + install, a
 * restored indexer_state and queue, a brand-new pacsdb with the same studies; and a pass whose
 * fresh changes come back "stale" fails loudly instead of dropping them.
 */
const ledger = new FaultLedger('version-floor');
const seed = faultSeed(0x5eed_0a10);
/** The capture objects' tables: everything else in pacsdb is the PACS's own. */
const AGENT_TABLES = new Set(['study_service', 'indexer_state', 'indexer_dead_letter', 'indexer_legacy_queue']);

interface Snapshot {
  state: mysql.RowDataPacket[];
  queue: mysql.RowDataPacket[];
  counter: number;
}

/** What a pacsdb dump holds of the agent's state: indexer_state, the queue and its counter. */
async function snapshot(conn: mysql.Connection, db: string): Promise<Snapshot> {
  const [state] = await conn.query<mysql.RowDataPacket[]>('SELECT name, value, updated_at FROM indexer_state');
  const [queue] = await conn.query<mysql.RowDataPacket[]>('SELECT seq, study_pk, op, study_iuid, queued_at FROM study_service');
  const [[t]] = await conn.query<mysql.RowDataPacket[]>(
    "SELECT AUTO_INCREMENT AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'study_service'", [db],
  );
  return { state, queue, counter: Number(t!.n) };
}

async function restore(conn: mysql.Connection, s: Snapshot): Promise<void> {
  await conn.query('DELETE FROM indexer_state');
  for (const r of s.state) await conn.query('INSERT INTO indexer_state (name, value, updated_at) VALUES (?, ?, ?)', [r.name, r.value, r.updated_at]);
  await conn.query('DELETE FROM study_service');
  for (const r of s.queue) {
    await conn.query('INSERT INTO study_service (seq, study_pk, op, study_iuid, queued_at) VALUES (?, ?, ?, ?, ?)', [r.seq, r.study_pk, r.op, r.study_iuid, r.queued_at]);
  }
  // MariaDB/InnoDB keep the counter at least above the highest row; a restored dump sets it back.
  await conn.query(`ALTER TABLE study_service AUTO_INCREMENT = ${Number(s.counter)}`);
}

/** A new pacsdb (fresh schema, no capture objects) holding a copy of every PACS table's rows. */
async function copyPacsdb(from: TestDatabase): Promise<TestDatabase> {
  const to = await createPacsdb('fixture', 'vfloor_new');
  const [tables] = await from.conn.query<mysql.RowDataPacket[]>(
    "SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'", [from.name],
  );
  await to.conn.query('SET FOREIGN_KEY_CHECKS = 0');
  for (const { t } of tables) {
    if (AGENT_TABLES.has(String(t))) continue;
    await to.conn.query(`INSERT INTO \`${to.name}\`.\`${String(t)}\` SELECT * FROM \`${from.name}\`.\`${String(t)}\``);
  }
  await to.conn.query('SET FOREIGN_KEY_CHECKS = 1');
  await to.conn.query("SET SESSION sql_mode = ''");
  return to;
}

afterAll(() => {
  console.log(ledger.summary({ seed }));
});

describe('the version floor: dcm4chee agent → real receiver', { timeout: 180_000 }, () => {
  let bed: FaultBed;
  let fresh: TestDatabase | undefined;

  beforeAll(async () => {
    bed = await createFaultBed('vfloor', seed, { read_chunk: 40, batch_size: 15 });
    await bed.writer.addStudies(100);
  });
  afterAll(async () => {
    ledger.collect(bed?.receiver.logLines.join('\n') ?? '');
    await fresh?.drop();
    await bed?.close();
  });

  const check = (conn = bed.site.conn) => expectReceiverEqualsSource(ledger, bed.receiver.base, bed.token, bed.writer, conn);
  const run = async (args: string[], dir = bed.dir) => {
    ledger.counts.cases += args[0] === 'sync' ? 1 : 0;
    const r = await ledger.run(args, dir);
    expect(r.code, `${args.join(' ')}: ${describeRun(r)}`).toBe(0);
    return r;
  };

  it('the receiver tells a centre its highest version, and only its own', async () => {
    await run(['initial']);
    await bed.writer.churn(30);
    await run(['sync']);
    await check();
    const res = await http(bed.receiver.base, 'GET', `/api/v2/centers/${FAULT_CENTER}/source-seq`, { headers: { authorization: `Bearer ${bed.key}` } });
    expect(res.status, res.text).toBe(200);
    const [[row]] = await bed.receiver.pool.query<mysql.RowDataPacket[]>('SELECT MAX(source_seq) AS m FROM studies');
    expect(res.json).toEqual({ center: FAULT_CENTER, highest_source_seq: Number(row!.m) });
    const other = await http(bed.receiver.base, 'GET', '/api/v2/centers/999/source-seq', { headers: { authorization: `Bearer ${bed.key}` } });
    expect(other.status).toBe(403);
    const token = await http(bed.receiver.base, 'GET', `/api/v2/centers/${FAULT_CENTER}/source-seq`, { headers: { authorization: `Bearer ${bed.token}` } });
    expect(token.status).toBe(403);
    const spec = await http(bed.receiver.base, 'GET', '/openapi.json');
    expect(Object.keys(spec.json.paths as object)).toContain('/api/v2/centers/{center}/source-seq');
  });

  it('uninstall + install: later changes, renames and deletions still reach the receiver', async () => {
    await run(['uninstall']);
    await run(['install']);
    await bed.writer.churn(60);
    const [[p]] = await bed.site.conn.query<mysql.RowDataPacket[]>('SELECT MIN(pk) AS pk FROM patient');
    await bed.writer.writer.renamePatient(Number(p!.pk), 'RENOMBRADO^TRAS^REINSTALAR');
    const r = await run(['sync']);
    await check();
    expect(r.stderr).toContain('receiver version floor');
  });

  it('indexer_state and the queue restored from an earlier dump: versions stay above the receiver', async () => {
    const dump = await snapshot(bed.site.conn, bed.site.name);
    const [[s]] = await bed.site.conn.query<mysql.RowDataPacket[]>('SELECT MAX(pk) AS pk FROM study');
    await bed.writer.churn(60);
    await bed.writer.writer.updateStudy(Number(s!.pk), { desc: 'ANTES DE RESTAURAR' });
    await run(['sync']);
    await restore(bed.site.conn, dump);
    // Fewer changes than before the restore: their queue positions stay below the versions sent then.
    await bed.writer.churn(5);
    await bed.writer.writer.updateStudy(Number(s!.pk), { desc: 'DESPUES DE RESTAURAR' });
    await run(['sync']);
    await check();
  });

  it('a brand-new pacsdb holding the same studies: install, initial, changes, sync', async () => {
    fresh = await copyPacsdb(bed.site);
    const dir = writeSiteConfig(fresh, { url: bed.proxy.url, key: bed.key, read_chunk: 40, batch_size: 15, http: PATIENT_HTTP }, FAULT_CENTER);
    await run(['install'], dir);
    await run(['initial'], dir);
    bed.writer.useConnection(fresh.conn);
    await bed.writer.churn(40);
    await run(['sync'], dir);
    await check(fresh.conn);
  });

  it('versions forced backwards (the floor cannot be read): the pass fails loudly, nothing acknowledged; then it completes', async () => {
    const dir = writeSiteConfig(fresh!, { url: bed.proxy.url, key: bed.key, read_chunk: 200, batch_size: 15, http: PATIENT_HTTP }, FAULT_CENTER);
    await run(['uninstall'], dir);
    await run(['install'], dir);
    await bed.writer.churn(30);
    const [[s]] = await fresh!.conn.query<mysql.RowDataPacket[]>('SELECT MIN(pk) AS pk FROM study');
    await bed.writer.writer.updateStudy(Number(s!.pk), { desc: 'ESTUDIO TRAS REINSTALAR' });
    const backlog = await queueCount(fresh!.conn);
    // The pass's first request is the floor: answered 404, as a receiver without the route would.
    bed.proxy.inject({ kind: 'status', status: 404 }, { count: 1 });
    const failed = await ledger.run(['sync'], dir);
    expect(failed.code, describeRun(failed)).toBe(6);
    expect(failed.stderr).toContain('VERSIONS_BEHIND');
    expect(failed.stderr).toMatch(/receiver holds newer versions than the agent sent for \d+ of \d+ records/);
    expect(await queueCount(fresh!.conn)).toBe(backlog);
    await run(['sync'], dir);
    expect(await queueCount(fresh!.conn)).toBe(0);
    await check(fresh!.conn);
  });
});
