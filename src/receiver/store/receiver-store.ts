import { AccessStore } from './access-store.js';
import { pingDatabase, type Pool } from './db.js';
import { upsertStudies, type UpsertOutcome } from './study-store.js';
import { searchStudies, studyStats, type Keyset, type StatsGroup, type StudyFilters, type StudyPage } from './study-query.js';
import type { StudyVersion } from '../record-validation.js';

/** Everything the HTTP layer asks of the database, behind one object (buildApp takes it as a dependency). */
export interface ReceiverStore {
  access: AccessStore;
  upsert(centerId: number, versions: StudyVersion[]): Promise<UpsertOutcome>;
  search(filters: StudyFilters, limit: number, after: Keyset | null): Promise<StudyPage>;
  stats(group: StatsGroup): Promise<{ key: string | null; studies: number }[]>;
  ping(): Promise<void>;
}

export function createStore(pool: Pool): ReceiverStore {
  return {
    access: new AccessStore(pool),
    upsert: (centerId, versions) => upsertStudies(pool, centerId, versions),
    search: (filters, limit, after) => searchStudies(pool, filters, limit, after),
    stats: (group) => studyStats(pool, group),
    ping: () => pingDatabase(pool),
  };
}
