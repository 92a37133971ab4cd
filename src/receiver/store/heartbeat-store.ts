import type { RowDataPacket } from 'mysql2/promise';
import type { Pool } from './db.js';

/** A heartbeat as the route validated it (http/heartbeat-schemas.ts): counts, codes and timestamps only. */
export interface HeartbeatBody {
  source: string;
  agent_version: string;
  backlog?: number | null;
  oldest_unsent_age_s?: number | null;
  last_pass?: { command?: string; ok: boolean; error_code?: string | null; finished_at: string | null; duration_ms?: number | null } | null;
  dead_letters?: number | null;
  capture_ok?: boolean | null;
  capture_problems?: string[];
  last_reconcile?: { ok: boolean; dry_run?: boolean; error_code?: string | null; finished_at: string | null; days_differing?: number | null } | null;
  incomplete_windows?: number | null;
}

/** A centre's latest heartbeat, with when it arrived (ISO UTC). */
export interface StoredHeartbeat {
  center_id: number;
  received_at: string;
  body: HeartbeatBody;
}

/** Seconds between two history rows of one centre (the latest heartbeat is always kept). */
export const HISTORY_EVERY_S = 60;

/** History rows deleted per insert at most: pruning keeps pace with arrivals, never one long DELETE. */
export const PRUNE_BATCH = 500;

const isoUtc = (v: unknown): string => `${String(v).replace(' ', 'T')}Z`;

/**
 * Stores a heartbeat as the centre's latest and in its history, then prunes history older than
 * `historyDays` (at most PRUNE_BATCH rows, on the received_at index): a few rows a minute per
 * centre, so the bounded delete keeps up however long the receiver has been down.
 */
export async function saveHeartbeat(pool: Pool, centerId: number, body: HeartbeatBody, historyDays: number): Promise<string> {
  const json = JSON.stringify(body);
  const [[row]] = await pool.query<RowDataPacket[]>('SELECT UTC_TIMESTAMP(3) AS now');
  const now = String(row!.now);
  const values = [
    centerId, now, body.source, body.agent_version, body.backlog ?? null, body.oldest_unsent_age_s ?? null, body.dead_letters ?? null,
    body.capture_ok === undefined || body.capture_ok === null ? null : body.capture_ok ? 1 : 0, body.incomplete_windows ?? null, json,
  ];
  await pool.query(
    `INSERT INTO center_heartbeats (center_id, received_at, source_kind, agent_version, backlog, oldest_unsent_age_s, dead_letters,
       capture_ok, incomplete_windows, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON DUPLICATE KEY UPDATE received_at = VALUES(received_at), source_kind = VALUES(source_kind), agent_version = VALUES(agent_version),
       backlog = VALUES(backlog), oldest_unsent_age_s = VALUES(oldest_unsent_age_s), dead_letters = VALUES(dead_letters),
       capture_ok = VALUES(capture_ok), incomplete_windows = VALUES(incomplete_windows), body = VALUES(body)`,
    values,
  );
  // History keeps one row per centre per minute at most: a key posting at its rate limit cannot grow it faster.
  await pool.query(
    `INSERT INTO center_heartbeat_history (center_id, received_at, body)
     SELECT ?, ?, ? FROM DUAL WHERE NOT EXISTS (
       SELECT 1 FROM center_heartbeat_history WHERE center_id = ? AND received_at > DATE_SUB(?, INTERVAL ? SECOND))`,
    [centerId, now, json, centerId, now, HISTORY_EVERY_S],
  );
  await pool.query('DELETE FROM center_heartbeat_history WHERE received_at < DATE_SUB(?, INTERVAL ? DAY) ORDER BY received_at LIMIT ?', [now, historyDays, PRUNE_BATCH]);
  return isoUtc(now);
}

/** Every centre's latest heartbeat (one row per centre that ever reported), by centre code. */
export async function latestHeartbeats(pool: Pool): Promise<Map<string, StoredHeartbeat>> {
  const [rows] = await pool.query<RowDataPacket[]>(
    'SELECT c.code, h.center_id, h.received_at, h.body FROM center_heartbeats h JOIN centers c ON c.id = h.center_id',
  );
  return new Map(rows.map((r) => [String(r.code), { center_id: Number(r.center_id), received_at: isoUtc(r.received_at), body: JSON.parse(String(r.body)) as HeartbeatBody }]));
}

/** A centre's heartbeats, newest first (at most `limit`), for tests and operators. */
export async function heartbeatHistory(pool: Pool, centerId: number, limit = 1000): Promise<StoredHeartbeat[]> {
  const [rows] = await pool.query<RowDataPacket[]>(
    'SELECT center_id, received_at, body FROM center_heartbeat_history WHERE center_id = ? ORDER BY received_at DESC, id DESC LIMIT ?',
    [centerId, limit],
  );
  return rows.map((r) => ({ center_id: Number(r.center_id), received_at: isoUtc(r.received_at), body: JSON.parse(String(r.body)) as HeartbeatBody }));
}
