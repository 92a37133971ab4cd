import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRUNE_BATCH } from '../../src/receiver/store/heartbeat-store.js';
import { addCenter, addToken, bearer, http, startReceiver, type Receiver } from './receiver-harness.js';

let rx: Receiver;
let keyA: string;
let keyB: string;
let token: string;
/** Added to the receiver's clock: moves "now" forward for the silent judgement. */
let clockOffsetMs = 0;

beforeAll(async () => {
  rx = await startReceiver('rx_heartbeat', { now: () => Date.now() + clockOffsetMs, heartbeats: { silentAfterS: 60 } });
  keyA = await addCenter(rx.store, 'HA');
  keyB = await addCenter(rx.store, 'HB');
  await addCenter(rx.store, 'HC');
  token = await addToken(rx.store, 'ops');
});
afterAll(async () => {
  await rx?.close();
});

const beat = (extra: Record<string, unknown> = {}) => ({
  source: 'dcm4chee',
  agent_version: '1.4.0',
  backlog: 12,
  oldest_unsent_age_s: 340,
  last_pass: { command: 'sync', ok: false, error_code: 'RECEIVER_UNAVAILABLE', finished_at: '2026-12-01T10:00:00.000Z', duration_ms: 812 },
  dead_letters: 2,
  capture_ok: false,
  capture_problems: ['missing_trigger'],
  last_reconcile: { ok: true, dry_run: false, error_code: null, finished_at: '2026-11-30T02:00:00.000Z', days_differing: 0 },
  incomplete_windows: null,
  ...extra,
});

const post = (center: string, key: string, body: unknown) =>
  http(rx.base, 'POST', `/api/v2/centers/${center}/heartbeat`, { headers: bearer(key), json: body });

async function historyCount(center: string): Promise<number> {
  const [rows] = await rx.pool.query<RowDataPacket[]>(
    'SELECT COUNT(*) AS n FROM center_heartbeat_history h JOIN centers c ON c.id = h.center_id WHERE c.code = ?', [center]);
  return Number(rows[0]!.n);
}

describe('POST /api/v2/centers/:center/heartbeat', () => {
  it('refuses no key and a wrong key (401), a read token and another centre\'s key (403)', async () => {
    expect((await http(rx.base, 'POST', '/api/v2/centers/HA/heartbeat', { json: beat() })).status).toBe(401);
    expect((await post('HA', 'not-a-key-0123456789abcdef', beat())).status).toBe(401);
    expect((await post('HA', token, beat())).status).toBe(403);
    const other = await post('HA', keyB, beat());
    expect(other.status).toBe(403);
    expect(other.json.message).toMatch(/another centre/);
    expect(await historyCount('HA')).toBe(0);
  });

  it.each([
    ['an unknown field (free text)', { note: 'GONZALEZ^MARIA' }],
    ['a message in the last pass', { last_pass: { ok: false, finished_at: null, message: 'patient GONZALEZ not found' } }],
    ['an error code that is prose', { last_pass: { ok: false, finished_at: null, error_code: 'study of GONZALEZ' } }],
    ['a code too long', { capture_problems: ['X'.repeat(65)] }],
    ['too many problem codes', { capture_problems: Array.from({ length: 33 }, (_, i) => `c${i}`) }],
    ['a negative count', { backlog: -1 }],
    ['a fractional count', { dead_letters: 1.5 }],
    ['a timestamp that is not one', { last_pass: { ok: true, finished_at: 'yesterday' } }],
    ['a non-ASCII version', { agent_version: '1.0-é' }],
    ['a missing source', { source: undefined }],
    ['a count written as text', { backlog: '5' }],
    ['a count written as a boolean', { backlog: true }],
    ['a flag written as text', { capture_ok: 'true' }],
    ['a code written as a number', { last_pass: { ok: false, finished_at: null, error_code: 123 } }],
    ['an impossible day', { last_pass: { ok: true, finished_at: '2025-02-30T00:00:00Z' } }],
    ['hour 24', { last_pass: { ok: true, finished_at: '2025-01-01T24:00:00Z' } }],
    ['a version that is a name', { agent_version: 'GONZALEZ^MARIA' }],
  ])('refuses %s (400), storing nothing', async (_what, extra) => {
    const res = await post('HA', keyA, beat(extra));
    expect(res.status).toBe(400);
    expect(res.text).not.toContain('GONZALEZ');
    expect(await historyCount('HA')).toBe(0);
  });

  it('refuses a body larger than a heartbeat could be (413)', async () => {
    const res = await http(rx.base, 'POST', '/api/v2/centers/HA/heartbeat', {
      headers: { ...bearer(keyA), 'content-type': 'application/json' }, body: JSON.stringify(beat({ agent_version: 'x'.repeat(20_000) })),
    });
    expect(res.status).toBe(413);
  });

  it('keeps the latest per centre, and in the history one per centre per minute', async () => {
    expect((await post('HA', keyA, beat({ backlog: 5 }))).status).toBe(200);
    const res = await post('HA', keyA, beat({ backlog: 7 }));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: 'ok', received_at: expect.stringMatching(/Z$/) });
    const id = await centerId('HA');
    // A key posting at its rate limit cannot grow the history faster than a row a minute.
    expect((await rx.store.heartbeatHistory(id)).map((h) => h.body.backlog)).toEqual([5]);
    await rx.pool.query('UPDATE center_heartbeat_history SET received_at = received_at - INTERVAL 2 MINUTE WHERE center_id = ?', [id]);
    expect((await post('HA', keyA, beat({ backlog: 7 }))).status).toBe(200);
    const history = await rx.store.heartbeatHistory(id);
    expect(history.map((h) => h.body.backlog)).toEqual([7, 5]);
    const latest = await rx.store.latestHeartbeats();
    expect(latest.get('HA')?.body.backlog).toBe(7);
    expect(latest.has('HB')).toBe(false);
  });

  it('prunes history past RECEIVER_HEARTBEAT_HISTORY_DAYS (default 14) as new heartbeats arrive, in bounded steps', async () => {
    const id = await centerId('HB');
    const old = Array.from({ length: PRUNE_BATCH + 10 }, () => [id, '2000-01-01 00:00:00', '{}']);
    await rx.pool.query('INSERT INTO center_heartbeat_history (center_id, received_at, body) VALUES ?', [old]);
    await rx.pool.query("INSERT INTO center_heartbeat_history (center_id, received_at, body) VALUES (?, UTC_TIMESTAMP() - INTERVAL 13 DAY, '{}')", [id]);
    expect((await post('HB', keyB, beat())).status).toBe(200);
    // One insert deletes at most PRUNE_BATCH: 10 old rows remain, the next heartbeat takes them.
    expect(await historyCount('HB')).toBe(10 + 1 + 1);
    expect((await post('HB', keyB, beat())).status).toBe(200);
    // The 13-day row and the first new one (the second came within the minute: latest only).
    expect(await historyCount('HB')).toBe(1 + 1);
  });
});

async function centerId(code: string): Promise<number> {
  const [rows] = await rx.pool.query<RowDataPacket[]>('SELECT id FROM centers WHERE code = ?', [code]);
  return Number(rows[0]!.id);
}

describe('GET /api/v2/centers health and /metrics', () => {
  it('shows each centre\'s latest heartbeat, null for one that never reported, and silent past the limit', async () => {
    clockOffsetMs = 0;
    expect((await post('HA', keyA, beat({ backlog: 3 }))).status).toBe(200);
    const res = await http(rx.base, 'GET', '/api/v2/centers', { headers: bearer(token) });
    expect(res.status).toBe(200);
    const byCode = Object.fromEntries(res.json.items.map((c: { code: string }) => [c.code, c]));
    expect(byCode.HC.health).toBeNull();
    expect(byCode.HA.health).toEqual({
      last_contact_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T.*Z$/),
      silent: false,
      source: 'dcm4chee',
      agent_version: '1.4.0',
      backlog: 3,
      oldest_unsent_age_s: 340,
      last_pass: { command: 'sync', ok: false, error_code: 'RECEIVER_UNAVAILABLE', finished_at: '2026-12-01T10:00:00.000Z' },
      dead_letters: 2,
      capture_ok: false,
      capture_problems: ['missing_trigger'],
      last_reconcile: { ok: true, dry_run: false, error_code: null, finished_at: '2026-11-30T02:00:00.000Z', days_differing: 0 },
      incomplete_windows: null,
    });
    clockOffsetMs = 61_000;
    const later = await http(rx.base, 'GET', '/api/v2/centers', { headers: bearer(token) });
    expect(later.json.items.find((c: { code: string }) => c.code === 'HA').health.silent).toBe(true);
    clockOffsetMs = 0;
  });

  it('exports backlog, oldest unsent age, last-contact age and silent per centre', async () => {
    clockOffsetMs = 0;
    expect((await post('HA', keyA, beat({ backlog: 9, oldest_unsent_age_s: 77 }))).status).toBe(200);
    const metrics = (await http(rx.base, 'GET', '/metrics')).text;
    expect(metrics).toMatch(/^indexer_center_backlog\{center="HA"\} 9$/m);
    expect(metrics).toMatch(/^indexer_center_oldest_unsent_age_seconds\{center="HA"\} 77$/m);
    expect(metrics).toMatch(/^indexer_center_last_contact_age_seconds\{center="HA"\} \d+(\.\d+)?$/m);
    expect(metrics).toMatch(/^indexer_center_silent\{center="HA"\} 0$/m);
    expect(metrics).toMatch(/^indexer_center_silent\{center="HC"\} 1$/m);
    expect(metrics).not.toMatch(/^indexer_center_backlog\{center="HC"\}/m);
    clockOffsetMs = 120_000;
    const later = (await http(rx.base, 'GET', '/metrics')).text;
    expect(later).toMatch(/^indexer_center_silent\{center="HA"\} 1$/m);
    const age = Number(/^indexer_center_last_contact_age_seconds\{center="HA"\} (\S+)$/m.exec(later)![1]);
    expect(age).toBeGreaterThanOrEqual(119);
    clockOffsetMs = 0;
  });
});
