import { AccessStore } from './access-store.js';
import { pingDatabase, type Pool } from './db.js';
import { guarded } from './store-errors.js';
import { highestSourceSeq, reconcileDays, reconcileStudies, type ReconcileDay, type ReconcileStudy } from './reconcile-store.js';
import { upsertStudies, type UpsertOutcome } from './study-store.js';
import { searchStudies, studyStats, type Keyset, type StatsGroup, type StudyFilters, type StudyPage } from './study-query.js';
import type { StudyVersion } from '../record-validation.js';

/**
 * Everything the HTTP layer asks of the database, behind one object (buildApp takes it as a dependency).
 * A driver error that retrying later can cure leaves it as StoreUnavailableError (store-errors.ts).
 */
export interface ReceiverStore {
  access: AccessStore;
  upsert(centerId: number, versions: StudyVersion[]): Promise<UpsertOutcome>;
  search(filters: StudyFilters, limit: number, after: Keyset | null): Promise<StudyPage>;
  stats(group: StatsGroup): Promise<{ key: string | null; studies: number }[]>;
  reconcileDays(centerId: number): Promise<ReconcileDay[]>;
  reconcileStudies(centerId: number, day: string): Promise<ReconcileStudy[]>;
  /** The highest source_seq the centre ever sent (the agent's version floor), or null. */
  highestSourceSeq(centerId: number): Promise<number | null>;
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

export function createStore(pool: Pool, now: () => number = Date.now): ReceiverStore {
  return {
    access: new AccessStore(pool),
    upsert: guarded((centerId, versions) => upsertStudies(pool, centerId, versions)),
    search: guarded((filters, limit, after) => searchStudies(pool, filters, limit, after)),
    stats: guarded(cachedStats(pool, now)),
    reconcileDays: guarded((centerId) => reconcileDays(pool, centerId)),
    reconcileStudies: guarded((centerId, day) => reconcileStudies(pool, centerId, day)),
    highestSourceSeq: guarded((centerId) => highestSourceSeq(pool, centerId)),
    ping: () => pingDatabase(pool),
  };
}
