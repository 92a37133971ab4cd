import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BATCHES, startCentralReceiver, type CentralReceiver } from '../../helpers/central-receiver.js';
import { Dcm4cheeWriter } from '../../helpers/dcm4chee-writer.js';
import type { Exchange } from '../../helpers/fault-proxy.js';
import type { TestDatabase } from '../../helpers/mysql.js';
import { bearer, http } from '../../helpers/receiver-harness.js';
import { CENTER, KEY, REPO_ROOT, createSite, queueCount, runCli, spawnCli, waitFor, writeSiteConfig } from '../support/agent-harness.js';

const HEARTBEATS = { method: 'POST', path: /^\/api\/v2\/centers\/[^/]+\/heartbeat$/ } as const;
const VERSION = (JSON.parse(readFileSync(`${REPO_ROOT}/package.json`, 'utf8')) as { version: string }).version;

/** Values of the seeded studies that must never appear in a heartbeat. */
const PATIENT = { patId: '7-77777', name: 'HEARTBEATSON^ROSALINDA' };
const DESC = 'TORAX ESPECIAL HBT';
const ACCESSION = 'ACCHBT991';

/** The agent's heartbeat (built CLI, fixture schema) against the real receiver behind the fault proxy. */
describe('heartbeat (built CLI, fixture schema)', () => {
  let db: TestDatabase;
  let receiver: CentralReceiver;
  let writer: Dcm4cheeWriter;
  const iuids: string[] = [];

  beforeEach(async () => {
    db = await createSite('fixture', 'heartbeat');
    receiver = await startCentralReceiver('agent_heartbeat', { [CENTER]: KEY });
    writer = new Dcm4cheeWriter(db.conn);
    iuids.length = 0;
  });
  afterEach(async () => {
    await receiver.close();
    await db.drop();
  });

  const seed = async (n: number) => {
    const p = await writer.createPatient(PATIENT);
    for (let i = 0; i < n; i++) {
      const iuid = `1.2.826.0.1.3680043.77.${Date.now() % 1e6}.${i}`;
      iuids.push(iuid);
      await writer.addSeries(await writer.storeStudy(p, { iuid, desc: DESC, accession: ACCESSION }), { modality: 'CT', instances: 1 });
    }
  };
  const beats = (): Exchange[] => receiver.proxy.exchanges.filter((e) => e.method === 'POST' && HEARTBEATS.path.test(e.path));
  const bodyOf = (e: Exchange) => JSON.parse(e.request.toString('utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

  /** No patient value, study identifier or message in what was posted. */
  const expectNoPatientData = (e: Exchange) => {
    const text = e.request.toString('utf8');
    for (const v of [PATIENT.patId, 'HEARTBEATSON', 'ROSALINDA', 'TORAX', ACCESSION, ...iuids, db.name]) expect(text).not.toContain(v);
  };

  it('a sync pass posts its result and the backlog; the receiver shows it in GET /api/v2/centers', async () => {
    await seed(3);
    const res = await runCli(['sync'], writeSiteConfig(db, { url: receiver.url }));
    expect(res.code, res.stderr).toBe(0);
    expect(beats()).toHaveLength(1);
    const [beat] = beats();
    expect(beat!.status).toBe(200);
    expect(bodyOf(beat!)).toMatchObject({
      source: 'dcm4chee', agent_version: VERSION, backlog: 0, dead_letters: 0, capture_ok: true,
      last_pass: { command: 'sync', ok: true, error_code: null, finished_at: expect.stringMatching(/Z$/) },
    });
    expectNoPatientData(beat!);
    const centers = await http(receiver.base, 'GET', '/api/v2/centers', { headers: bearer('token-tests-0123456789abcdef') });
    expect(centers.json.items[0].health).toMatchObject({ silent: false, backlog: 0, last_pass: { ok: true } });
  });

  it('a failed pass posts its error code and the changes still queued', async () => {
    await seed(4);
    const queued = await queueCount(db.conn);
    receiver.proxy.enqueue(BATCHES, { kind: 'status', status: 500 }, { kind: 'status', status: 500 }, { kind: 'status', status: 500 });
    const res = await runCli(['sync'], writeSiteConfig(db, { url: receiver.url }));
    expect(res.code).toBe(6);
    const [beat] = beats();
    expect(beat!.status).toBe(200);
    const body = bodyOf(beat!);
    expect(body).toMatchObject({ backlog: queued, last_pass: { command: 'sync', ok: false, error_code: 'RECEIVER_UNAVAILABLE' } });
    expect(body.oldest_unsent_age_s).toBeGreaterThanOrEqual(0);
    expect(JSON.stringify(body)).not.toMatch(/message|unavailable after/);
    expectNoPatientData(beat!);
  });

  it.each([
    ['answers 500', { kind: 'status', status: 500 } as const],
    ['closes the connection', { kind: 'close' } as const],
    ['has no heartbeat route (an older receiver: 404)', { kind: 'status', status: 404 } as const],
    ['refuses the key (403)', { kind: 'status', status: 403 } as const],
  ])('a receiver that %s for the heartbeat does not fail the pass (one attempt, a warning)', async (_what, fault) => {
    await seed(2);
    receiver.proxy.enqueue(HEARTBEATS, fault);
    const res = await runCli(['sync'], writeSiteConfig(db, { url: receiver.url }));
    expect(res.code, res.stderr).toBe(0);
    expect((await receiver.held(CENTER)).size).toBe(2);
    expect(beats()).toHaveLength(1);
    expect(res.stderr).toMatch(/"level":40.*heartbeat (not delivered|refused)/);
  });

  it('a receiver that hangs on the heartbeat holds the pass up no longer than the deadline', async () => {
    await seed(1);
    receiver.proxy.enqueue(HEARTBEATS, { kind: 'hang' });
    const started = Date.now();
    const res = await runCli(['sync'], writeSiteConfig(db, { url: receiver.url, http: { retries: 2, min_backoff_ms: 5, max_backoff_ms: 50, timeout_ms: 800, deadline_ms: 1000 } }));
    expect(res.code, res.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(8000);
    expect(beats()).toHaveLength(1);
    expect(res.stderr).toMatch(/heartbeat not delivered/);
  });

  it('a pass whose key the receiver refused posts no heartbeat (it would be refused too)', async () => {
    await seed(1);
    const res = await runCli(['sync'], writeSiteConfig(db, { url: receiver.url, key: 'wrong-key' }));
    expect(res.code).toBe(5);
    expect(beats()).toHaveLength(0);
  });

  it('heartbeat_interval_s 0 turns heartbeats off', async () => {
    await seed(1);
    expect((await runCli(['sync'], writeSiteConfig(db, { url: receiver.url, heartbeat_interval_s: 0 }))).code).toBe(0);
    expect(beats()).toHaveLength(0);
  });

  it('daemon posts on the interval between passes', async () => {
    await seed(1);
    // A schedule that never comes round in the test: only the start pass and the interval post.
    const { child, done } = spawnCli(['daemon'], writeSiteConfig(db, { url: receiver.url, heartbeat_interval_s: 1, schedule: '0 0 1 1 *' }));
    try {
      await waitFor(() => beats().length >= 3, 'three heartbeats', 15_000);
    } finally {
      child.kill('SIGTERM');
    }
    const res = await done;
    expect(res.code, res.stderr).toBe(0);
    const [first, ...rest] = beats().map(bodyOf);
    expect(first!.last_pass).toMatchObject({ command: 'sync', ok: true });
    // Between passes the stored last run is reported.
    for (const b of rest) expect(b).toMatchObject({ backlog: 0, last_pass: { ok: true } });
    for (const e of beats()) expectNoPatientData(e);
  });
});
