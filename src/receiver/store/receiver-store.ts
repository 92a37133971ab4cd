import { AccessStore } from './access-store.js';
import { pingDatabase, type Pool } from './db.js';
import { guarded } from './store-errors.js';
import { highestSourceSeq, reconcileDays, reconcileStudies, type DayRange, type ReconcileDay, type ReconcileStudy } from './reconcile-store.js';
import { heartbeatHistory, latestHeartbeats, saveHeartbeat, type HeartbeatBody, type StoredHeartbeat } from './heartbeat-store.js';
import { upsertStudies, type UpsertOutcome } from './study-store.js';
import { searchStudies, studyStats, type Keyset, type StatsGroup, type StudyFilters, type StudyPage } from './study-query.js';
import { countStudies, matchStudies, studyById } from './study-match-sql.js';
import type { MatchedStudy, MatchPage, PageRequest, StudyMatch } from './study-match.js';
import type { StudyVersion } from '../record-validation.js';

/**
 * Everything the HTTP layer asks of the database, behind one object (buildApp takes it as a dependency).
 * A driver error that retrying later can cure leaves it as StoreUnavailableError (store-errors.ts).
 */
export interface ReceiverStore {
  access: AccessStore;
  upsert(centerId: number, versions: StudyVersion[]): Promise<UpsertOutcome>;
  search(filters: StudyFilters, limit: number, after: Keyset | null): Promise<StudyPage>;
  /** One page of the studies a read interface matched (study-match.ts); QueryTooBroadError past the time budget. */
  match(match: StudyMatch, page: PageRequest): Promise<MatchPage>;
  /** How many studies match, or null when counting would outlast the time budget. */
  count(match: StudyMatch): Promise<number | null>;
  /** A study by its row id, tombstones included (FHIR read answers 410 for them); null when there is none. */
  studyById(id: number): Promise<MatchedStudy | null>;
  stats(group: StatsGroup): Promise<{ key: string | null; studies: number }[]>;
  reconcileDays(centerId: number, range?: DayRange): Promise<ReconcileDay[]>;
  reconcileStudies(centerId: number, day: string): Promise<ReconcileStudy[]>;
  /** The highest source_seq the centre ever sent (the agent's version floor), or null. */
  highestSourceSeq(centerId: number): Promise<number | null>;
  /** Stores a centre's heartbeat (latest and history, history pruned to the retention); its arrival time. */
  saveHeartbeat(centerId: number, body: HeartbeatBody): Promise<string>;
  /** Every centre's latest heartbeat, by centre code. */
  latestHeartbeats(): Promise<Map<string, StoredHeartbeat>>;
  heartbeatHistory(centerId: number, limit?: number): Promise<StoredHeartbeat[]>;
  ping(): Promise<void>;
}

/** Modality and month stats scan the index; they are shared for this long (per instance). */
export const STATS_CACHE_MS = 60_000;

/**
 * Caches the scanning stats (modality, month) for STATS_CACHE_MS, one query in flight per group
 * however many requests arrive; centre stats come from maintained counters and are never cached.
 */
function cachedStats(pool: Pool, now: () => number): ReceiverStore['stats'] {
  const cache = new Map<StatsGroup, { at: number; value: Promise<{ key: string | null; studies: number }[]> }>();
  return (group) => {
    if (group === 'center') return studyStats(pool, group);
    const hit = cache.get(group);
    if (hit && now() - hit.at < STATS_CACHE_MS) return hit.value;
    const value = studyStats(pool, group);
    cache.set(group, { at: now(), value });
    value.catch(() => cache.delete(group));
    return value;
  };
}

export interface StoreOptions {
  /** Clock (ms) for the stats cache. */
  now?: () => number;
  /** A search the database has not answered within this is stopped (QueryTooBroadError). */
  queryTimeLimitMs?: number;
  /** Heartbeat history older than this many days is pruned (RECEIVER_HEARTBEAT_HISTORY_DAYS). */
  heartbeatHistoryDays?: number;
}

export function createStore(pool: Pool, options: StoreOptions = {}): ReceiverStore {
  const now = options.now ?? Date.now;
  const budgetMs = options.queryTimeLimitMs ?? 5000;
  return {
    access: new AccessStore(pool),
    upsert: guarded((centerId, versions) => upsertStudies(pool, centerId, versions)),
    search: guarded((filters, limit, after) => searchStudies(pool, filters, limit, after, budgetMs)),
    match: guarded((m, page) => matchStudies(pool, m, page, budgetMs)),
    count: guarded((m) => countStudies(pool, m, budgetMs)),
    studyById: guarded((id) => studyById(pool, id)),
    stats: guarded(cachedStats(pool, now)),
    reconcileDays: guarded((centerId, range) => reconcileDays(pool, centerId, range)),
    reconcileStudies: guarded((centerId, day) => reconcileStudies(pool, centerId, day)),
    highestSourceSeq: guarded((centerId) => highestSourceSeq(pool, centerId)),
    saveHeartbeat: guarded((centerId, body) => saveHeartbeat(pool, centerId, body, options.heartbeatHistoryDays ?? 14)),
    latestHeartbeats: guarded(() => latestHeartbeats(pool)),
    heartbeatHistory: guarded((centerId, limit) => heartbeatHistory(pool, centerId, limit)),
    ping: () => pingDatabase(pool),
  };
}
