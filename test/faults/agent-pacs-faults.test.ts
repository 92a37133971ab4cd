import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installCapture } from '../../src/agent/sources/dcm4chee/capture-objects.js';
import { runLockName } from '../../src/agent/sources/dcm4chee/run-lock.js';
import { silentLog, writeSiteConfig } from '../agent/support/agent-harness.js';
import { connectionOptions, type TestDatabase } from '../helpers/mysql.js';
import { FIXTURE_SQL, loadSqlFile } from '../helpers/pacsdb.js';
import { addCenter, addToken, startReceiver, type Receiver } from '../helpers/receiver-harness.js';
import { FaultLedger, describeRun } from './support/agent-runs.js';
import { FAULT_CENTER, PATIENT_HTTP, createFaultBed, expectDrained, expectReceiverEqualsSource, type FaultBed } from './support/fault-bed.js';
import { FaultSiteWriter } from './support/fault-site.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { PatientDataRegistry } from './support/patient-data.js';
import { PrivateMariadb } from './support/private-mariadb.js';
import { Prng, faultSeed } from './support/prng.js';

/**
 * The PACS database going away under the agent: its server restarted (cleanly, or killed — a
 * crash) mid-pass, and the agent's connections killed (`KILL CONNECTION`) mid-pass. Each pass fails
 * cleanly (exit 3, the database family) or recovers; the next one completes; content equal.
 */
const ledger = new FaultLedger('agent-pacs-faults');
const seed = faultSeed(0x5eed_0602);
const registries: PatientDataRegistry[] = [];
/** A pass that lost its database ends with 0 (recovered) or 3 (database), never "unexpected". */
const CLEAN_EXITS = [0, 3];

afterAll(() => {
  console.log(ledger.summary({ seed }));
});

/** Waits (bounded) until the receiver got `posts` more posts through the proxy, while the pass runs. */
async function midPass(proxy: FaultProxy, posts: number, child: { exitCode: number | null }): Promise<void> {
  const target = proxy.counts.forwarded + posts;
  for (let i = 0; i < 6000 && proxy.counts.forwarded < target && child.exitCode === null; i++) await sleep(5);
  expect(child.exitCode, 'the pass ended before the fault could be injected').toBeNull();
}

describe('PACS database server restarted mid-pass (a private mariadbd on its own port)', { timeout: 120_000 }, () => {
  let server: PrivateMariadb;
  let receiver: Receiver;
  let proxy: FaultProxy;
  let token: string;
  let conn: mysql.Connection;
  let writer: FaultSiteWriter;
  let dir: string;
  const name = 'pacsdb_fault';

  async function connect(): Promise<void> {
    conn = await mysql.createConnection(connectionOptions(server.url, name));
    await conn.query("SET SESSION sql_mode = ''");
    writer?.useConnection(conn);
  }

  beforeAll(async () => {
    server = await PrivateMariadb.create();
    const admin = await mysql.createConnection(server.url);
    await admin.query(`CREATE DATABASE ${name} DEFAULT CHARACTER SET latin1`);
    await admin.end();
    await connect();
    await loadSqlFile(conn, FIXTURE_SQL);
    await installCapture(conn, name, silentLog);
    receiver = await startReceiver('fault_pacsrestart_rx');
    token = await addToken(receiver.store, 'fault-suite');
    const key = await addCenter(receiver.store, FAULT_CENTER);
    proxy = await startFaultProxy(receiver.base);
    proxy.latencyMs = 30;
    const site = { name, options: connectionOptions(server.url, name) } as TestDatabase;
    dir = writeSiteConfig(site, { url: proxy.url, key, read_chunk: 20, batch_size: 5, http: PATIENT_HTTP }, FAULT_CENTER);
    const rng = new Prng(seed);
    const ids = new PatientDataRegistry(rng);
    registries.push(ids);
    writer = new FaultSiteWriter(conn, rng, ids);
    await writer.addStudies(200);
  });
  afterAll(async () => {
    await conn?.end().catch(() => undefined);
    await proxy?.close();
    await receiver?.close();
    await server?.destroy();
  });

  const check = () => expectReceiverEqualsSource(ledger, receiver.base, token, writer, conn);

  async function restartMidPass(args: string[], signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const run = ledger.spawn(args, dir);
    await midPass(proxy, 4, run.child);
    await conn.end().catch(() => undefined);
    await server.restart(signal);
    ledger.counts.pacsRestarts += 1;
    const r = await run.done;
    await connect();
    expect(CLEAN_EXITS, describeRun(r)).toContain(r.code);
    if (r.code === 3) expect(r.stderr).toMatch(/PACS database/);
  }

  it('initial: the server crashes (SIGKILL) mid-pass; the next run completes', async () => {
    ledger.counts.cases += 1;
    await restartMidPass(['initial'], 'SIGKILL');
    const again = await ledger.run(['initial'], dir);
    expect(again.code, describeRun(again)).toBe(0);
    expect((await ledger.run(['sync'], dir)).code).toBe(0);
    await check();
  });

  it('sync: the server restarts cleanly (SIGTERM), then crashes, mid-pass; the next run completes', async () => {
    ledger.counts.cases += 1;
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      await writer.churn(80);
      await restartMidPass(['sync'], signal);
    }
    const again = await ledger.run(['sync'], dir);
    expect(again.code, describeRun(again)).toBe(0);
    await expectDrained(conn);
    await check();
  });
});

describe("the agent's connections killed (KILL CONNECTION from another session) mid-pass", { timeout: 120_000 }, () => {
  let bed: FaultBed;

  beforeAll(async () => {
    bed = await createFaultBed('fault_kconn', seed + 1, { read_chunk: 20, batch_size: 5 });
    bed.proxy.latencyMs = 30;
    registries.push(bed.ids);
    await bed.writer.addStudies(200);
  });
  afterAll(async () => {
    ledger.collect(bed?.receiver.logLines.join('\n') ?? '');
    await bed?.close();
  });

  const check = () => expectReceiverEqualsSource(ledger, bed.receiver.base, bed.token, bed.writer, bed.site.conn);

  /** The agent's sessions on the site database: the lock holder and the pool's. */
  async function agentConnections(): Promise<{ lock: number | null; others: number[] }> {
    const lockName = runLockName(bed.site.name);
    const [[held]] = await bed.site.conn.query<mysql.RowDataPacket[]>('SELECT IS_USED_LOCK(?) AS id', [lockName]);
    const [rows] = await bed.site.conn.query<mysql.RowDataPacket[]>(
      'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()', [bed.site.name],
    );
    const lock = held?.id === null || held?.id === undefined ? null : Number(held.id);
    return { lock, others: rows.map((r) => Number(r.id)).filter((id) => id !== lock) };
  }

  async function killMidPass(args: string[], which: 'all' | 'pool' | 'lock'): Promise<number | null> {
    const run = ledger.spawn(args, bed.dir);
    await midPass(bed.proxy, 4, run.child);
    const { lock, others } = await agentConnections();
    const victims = which === 'lock' ? [lock] : which === 'pool' ? others : [lock, ...others];
    for (const id of victims) {
      if (id === null) continue;
      await bed.site.conn.query(`KILL CONNECTION ${Number(id)}`).catch(() => undefined);
      ledger.counts.connectionKills += 1;
    }
    const r = await run.done;
    expect(CLEAN_EXITS, describeRun(r)).toContain(r.code);
    return r.code;
  }

  it('initial: every agent connection killed; the next run completes', async () => {
    ledger.counts.cases += 1;
    await killMidPass(['initial'], 'all');
    const again = await ledger.run(['initial'], bed.dir);
    expect(again.code, describeRun(again)).toBe(0);
    expect((await ledger.run(['sync'], bed.dir)).code).toBe(0);
    await check();
  });

  it("sync: the pool's connections killed; the next run completes", async () => {
    ledger.counts.cases += 1;
    await bed.writer.churn(80);
    await killMidPass(['sync'], 'pool');
    expect((await ledger.run(['sync'], bed.dir)).code).toBe(0);
    await expectDrained(bed.site.conn);
    await check();
  });

  it('sync: the connection holding the pass lock killed; the pass stops rather than run unlocked', async () => {
    ledger.counts.cases += 1;
    await bed.writer.churn(80);
    const code = await killMidPass(['sync'], 'lock');
    expect(code).toBe(3);
    expect((await ledger.run(['sync'], bed.dir)).code).toBe(0);
    await expectDrained(bed.site.conn);
    await check();
  });
});

describe('logs', () => {
  it('no log line carries a patient name, ID or birth date', () => {
    ledger.counts.cases += 1;
    expect(ledger.lines.length).toBeGreaterThan(0);
    expect(registries).toHaveLength(2);
    for (const ids of registries) expect(ids.findLeaks(ledger.lines)).toEqual([]);
  });
});
