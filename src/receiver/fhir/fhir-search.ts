import type { ReceiverStore } from '../store/receiver-store.js';
import type { Keyset, MatchedStudy } from '../store/study-match.js';
import type { FhirSearch } from './fhir-params.js';
import { FhirError } from './operation-outcome.js';

export interface Found {
  rows: MatchedStudy[];
  next: Keyset | null;
  /** Bundle.total; null: not asked (`_total=none`) or not countable within the time budget. */
  total: number | null;
}

/** One page and, unless `_total=none`, the count, asked of the store together. */
export async function runSearch(store: ReceiverStore, s: FhirSearch): Promise<Found> {
  if (s.impossible) return { rows: [], next: null, total: s.total || s.summaryCount ? 0 : null };
  const wantRows = !s.summaryCount && s.count > 0;
  const [page, total] = await Promise.all([
    wantRows ? store.match(s.match, { limit: s.count, after: s.after }) : null,
    s.total || s.summaryCount ? store.count(s.match) : null,
  ]);
  if (s.summaryCount && total === null) {
    throw new FhirError(413, 'too-costly', 'the studies matching this search cannot be counted within the time budget; narrow it (a date range, a patient, a modality)');
  }
  return { rows: page?.rows ?? [], next: page?.more ? page.next : null, total };
}
