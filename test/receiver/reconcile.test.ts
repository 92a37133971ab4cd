import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentHash, hashDigest } from '../../src/shared/content-hash.js';
import type { StudyRecord } from '../../src/shared/study-record.js';
import { addCenter, addToken, bearer, http, record, startReceiver, type Receiver } from './receiver-harness.js';

let rx: Receiver;
let keyA: string;
let keyB: string;
let token: string;

beforeAll(async () => {
  rx = await startReceiver('rx_reconcile');
  keyA = await addCenter(rx.store, 'RA');
  keyB = await addCenter(rx.store, 'RB');
  token = await addToken(rx.store, 'central');
});
afterAll(async () => {
  await rx?.close();
});

const post = (center: string, key: string, records: unknown[]) =>
  http(rx.base, 'POST', `/api/v2/centers/${center}/studies`, { headers: bearer(key), json: { records } });

/** A record carrying the agent's hash of its own content, as the new agent sends it. */
function hashed(iuid: string, seq: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const r = record(iuid, seq, extra);
  return { ...r, content_hash: contentHash(r as unknown as StudyRecord) };
}

const xor = (hashes: string[]) => hashes.reduce((acc, h) => acc ^ hashDigest(h), 0n).toString();

async function liveCount(center: string): Promise<number> {
  const [rows] = await rx.pool.query<RowDataPacket[]>(
    'SELECT COUNT(*) AS n FROM studies s JOIN centers c ON c.id = s.center_id WHERE c.code = ? AND s.deleted = 0', [center]);
  return Number(rows[0]!.n);
}

describe('content_hash', () => {
  it('is stored as sent with its digest; absent means NULL; a malformed one rejects that record alone', async () => {
    const good = hashed('h.1', 1);
    const r = await post('RA', keyA, [good, record('h.2', 1), { ...record('h.3', 1), content_hash: 'ABCDEF' }, { ...record('h.4', 1), content_hash: 7 }]);
    expect(r.json.stored).toBe(2);
    expect(r.json.rejected.map((x: { index: number; reason: string }) => [x.index, x.reason])).toEqual([
      [2, 'content_hash must be 32 lowercase hex characters'],
      [3, 'content_hash must be 32 lowercase hex characters'],
    ]);
    const [rows] = await rx.pool.query<RowDataPacket[]>(
      "SELECT study_iuid, content_hash, CAST(digest AS CHAR) AS digest FROM studies WHERE study_iuid LIKE 'h.%' ORDER BY study_iuid");
    expect(rows.map((x) => [x.study_iuid, x.content_hash, x.digest])).toEqual([
      ['h.1', good.content_hash, hashDigest(good.content_hash as string).toString()],
      ['h.2', null, null],
    ]);
  });

  it('is not recomputed: the receiver keeps whatever well-formed hash the agent sent', async () => {
    await post('RA', keyA, [{ ...record('h.5', 1), content_hash: 'f'.repeat(32) }]);
    const [rows] = await rx.pool.query<RowDataPacket[]>('SELECT content_hash FROM studies WHERE study_iuid = ?', ['h.5']);
    expect(rows[0]!.content_hash).toBe('f'.repeat(32));
  });
});

describe('GET /api/v2/centers/{center}/reconcile/days and /studies', () => {
  const day1 = [hashed('d.1', 5, { study_datetime: '2022-05-01T08:00:00' }), hashed('d.2', 5, { study_datetime: '2022-05-01T23:59:59' })];
  const day2 = [hashed('d.3', 5, { study_datetime: '2022-05-02T00:00:00' }), hashed('d.4', 5, { study_datetime: '2022-05-02T10:00:00' })];
  const undated = [hashed('d.5', 5, { study_datetime: null })];

  beforeAll(async () => {
    expect((await post('RB', keyB, [...day1, ...day2, ...undated])).json.stored).toBe(5);
    // d.4 becomes a tombstone: out of the day's count and digest, still listed by /studies.
    expect((await post('RB', keyB, [{ study_iuid: 'd.4', source_seq: 6, deleted: true, study_datetime: '2022-05-02T10:00:00' }])).json.stored).toBe(1);
  });

  it('days: live count and BIT_XOR digest per study date, undated apart, tombstones left out', async () => {
    const r = await http(rx.base, 'GET', '/api/v2/centers/RB/reconcile/days', { headers: bearer(keyB) });
    expect(r.status).toBe(200);
    expect(r.json.items).toEqual([
      { day: '2022-05-01', count: 2, digest: xor(day1.map((x) => x.content_hash as string)) },
      { day: '2022-05-02', count: 1, digest: xor([day2[0]!.content_hash as string]) },
      { day: 'undated', count: 1, digest: xor([undated[0]!.content_hash as string]) },
    ].sort((a, b) => (a.day === 'undated' ? -1 : b.day === 'undated' ? 1 : a.day.localeCompare(b.day))));
  });

  it('days with from and to: only those days (a crawling agent asks its window every pass), undated left out', async () => {
    const r = await http(rx.base, 'GET', '/api/v2/centers/RB/reconcile/days?from=2022-05-02&to=2022-05-31', { headers: bearer(keyB) });
    expect(r.status).toBe(200);
    expect(r.json.items).toEqual([{ day: '2022-05-02', count: 1, digest: xor([day2[0]!.content_hash as string]) }]);
    const one = await http(rx.base, 'GET', '/api/v2/centers/RB/reconcile/days?from=2022-05-01&to=2022-05-01', { headers: bearer(keyB) });
    expect(one.json.items.map((d: { day: string }) => d.day)).toEqual(['2022-05-01']);
    for (const q of ['?from=2022-05-01', '?to=2022-05-01', '?from=2022-05-03&to=2022-05-01', '?from=2022-02-30&to=2022-03-01', '?from=undated&to=undated', '?from=x&to=y', '?since=2022-01-01']) {
      expect((await http(rx.base, 'GET', `/api/v2/centers/RB/reconcile/days${q}`, { headers: bearer(keyB) })).status, q).toBe(400);
    }
  });

  it('studies: every study of the day with version, hash and deleted flag', async () => {
    const r = await http(rx.base, 'GET', '/api/v2/centers/RB/reconcile/studies?day=2022-05-02', { headers: bearer(keyB) });
    expect(r.status).toBe(200);
    expect(r.json.items).toEqual([
      { study_iuid: 'd.3', source_seq: 5, content_hash: day2[0]!.content_hash, deleted: false },
      { study_iuid: 'd.4', source_seq: 6, content_hash: null, deleted: true },
    ]);
    const u = await http(rx.base, 'GET', '/api/v2/centers/RB/reconcile/studies?day=undated', { headers: bearer(keyB) });
    expect(u.json.items.map((x: { study_iuid: string }) => x.study_iuid)).toEqual(['d.5']);
    const none = await http(rx.base, 'GET', '/api/v2/centers/RB/reconcile/studies?day=1999-01-01', { headers: bearer(keyB) });
    expect(none.json.items).toEqual([]);
  });

  it('a digest changes when a study changes, so the agent can find the day to drill into', async () => {
    const before = (await http(rx.base, 'GET', '/api/v2/centers/RB/reconcile/days', { headers: bearer(keyB) })).json.items;
    await post('RB', keyB, [hashed('d.1', 7, { study_datetime: '2022-05-01T08:00:00', study_description: 'changed' })]);
    const after = (await http(rx.base, 'GET', '/api/v2/centers/RB/reconcile/days', { headers: bearer(keyB) })).json.items;
    const pick = (items: { day: string; digest: string }[]) => items.find((d) => d.day === '2022-05-01')!.digest;
    expect(pick(after)).not.toBe(pick(before));
  });

  it("403 for another centre's key or a read token, 401 without a key, 400 for a bad day", async () => {
    expect((await http(rx.base, 'GET', '/api/v2/centers/RB/reconcile/days', { headers: bearer(keyA) })).status).toBe(403);
    expect((await http(rx.base, 'GET', '/api/v2/centers/RB/reconcile/studies?day=undated', { headers: bearer(keyA) })).status).toBe(403);
    expect((await http(rx.base, 'GET', '/api/v2/centers/RB/reconcile/days', { headers: bearer(token) })).status).toBe(403);
    expect((await http(rx.base, 'GET', '/api/v2/centers/RB/reconcile/days')).status).toBe(401);
    for (const q of ['', '?day=2022-02-30', '?day=yesterday', '?day=2022-5-1', '?day=undated&x=1']) {
      const r = await http(rx.base, 'GET', `/api/v2/centers/RB/reconcile/studies${q}`, { headers: bearer(keyB) });
      expect(r.status, q).toBe(400);
    }
  });

  it('both routes are in /openapi.json', async () => {
    const doc = (await http(rx.base, 'GET', '/openapi.json')).json;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining([
      '/api/v2/centers/{center}/reconcile/days', '/api/v2/centers/{center}/reconcile/studies',
    ]));
    expect(doc.paths['/api/v2/centers/{center}/reconcile/studies'].get.parameters.map((p: { name: string }) => p.name)).toContain('day');
  });
});

describe('maintained centre counters', () => {
  it('stay equal to the live rows through inserts, tombstones, revivals, re-sends and concurrent posts', async () => {
    const key = await addCenter(rx.store, 'RC');
    const iuids = Array.from({ length: 30 }, (_, i) => `c.${i}`);
    await post('RC', key, iuids.map((i) => record(i, 1)));
    await post('RC', key, iuids.slice(0, 10).map((i) => ({ study_iuid: i, source_seq: 2, deleted: true })));
    await post('RC', key, iuids.slice(0, 10).map((i) => ({ study_iuid: i, source_seq: 2, deleted: true }))); // re-sent
    await post('RC', key, iuids.slice(0, 3).map((i) => record(i, 3))); // revived
    // Concurrent posts of the same studies, live and tombstone versions interleaved.
    await Promise.all(Array.from({ length: 8 }, (_, k) => post('RC', key, iuids.slice(10, 25).map((i) =>
      (k % 2 === 0 ? record(i, 10 + k) : { study_iuid: i, source_seq: 10 + k, deleted: true })))));
    const centers = await http(rx.base, 'GET', '/api/v2/centers', { headers: bearer(token) });
    const rc = centers.json.items.find((c: { code: string }) => c.code === 'RC');
    expect(rc.studies).toBe(await liveCount('RC'));
    expect(rc.last_source_seq).toBe(17);
    const stats = await http(rx.base, 'GET', '/api/v2/stats?group_by=center', { headers: bearer(token) });
    expect(stats.json.items.find((i: { key: string }) => i.key === 'RC').studies).toBe(await liveCount('RC'));
    // 30 studies: 10 tombstoned, 3 revived, 15 ended on the highest version (17: a tombstone).
    expect(rc.studies).toBe(30 - 10 + 3 - 15);
  });
});
