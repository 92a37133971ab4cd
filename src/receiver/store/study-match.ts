import type { StudyRecord } from '../../shared/study-record.js';

/**
 * What every read interface (the JSON API, QIDO-RS, FHIR, later C-FIND) can ask of the stored
 * studies, in the store's own terms: each interface translates its parameters into a StudyMatch,
 * and one SQL builder (study-match-sql.ts) turns it into a keyset- or offset-paged query.
 */

/**
 * A condition on a text column: equality under the column's collation, or a LIKE pattern whose
 * metacharacters the caller escaped with `!` (escapeLike) and whose wildcards are `%` and `_`.
 */
export type TextMatch = { readonly equals: string } | { readonly like: string };

/**
 * Person-name matching on a PN column (`FAMILY^GIVEN^MIDDLE^PREFIX^SUFFIX`, its alphabetic group),
 * under the column's collation (case- and accent-insensitive: utf8mb4_unicode_ci).
 */
export interface NameMatch {
  /** Per component, 0 = family … 4 = suffix; null or absent: any value. */
  readonly components?: readonly (TextMatch | null)[];
  /** A LIKE pattern over the whole alphabetic value (the components joined by `^`). */
  readonly whole?: string;
}

export interface StudyMatch {
  /** patient_key = ? (the normalised id: every spelling of a RUT is one key). */
  readonly patientKey?: string;
  /** The patient id literally (trimmed, case-sensitive): equals or a LIKE pattern. */
  readonly patientId?: TextMatch;
  /** Centre codes; an empty list matches nothing. */
  readonly centers?: readonly string[];
  /** Any of these modalities (upper-case); an empty list matches nothing. */
  readonly modalities?: readonly string[];
  /** Study date from, YYYY-MM-DD inclusive; undated studies never match a date bound. */
  readonly from?: string;
  /** Study date to, YYYY-MM-DD inclusive. */
  readonly to?: string;
  /** Time of day from, HH:MM:SS inclusive; undated studies never match a time bound. */
  readonly timeFrom?: string;
  /** Time of day to, HH:MM:SS inclusive. */
  readonly timeTo?: string;
  readonly accessionNo?: TextMatch;
  /** Any of these StudyInstanceUIDs (exact); an empty list matches nothing. */
  readonly studyIuids?: readonly string[];
  readonly studyId?: TextMatch;
  /** On name_key, the folded family name (patient-key.ts foldText): the caller folds the value. */
  readonly familyName?: TextMatch;
  readonly patientName?: NameMatch;
  readonly referringPhysician?: NameMatch;
  readonly description?: TextMatch;
  readonly includeDeleted: boolean;
}

/** Position after which the next page starts (the last item of the previous page). */
export interface Keyset {
  sortAt: string;
  id: number;
}

/** Newest first (undated last); either after a keyset or at an offset (QIDO-RS), never both. */
export interface PageRequest {
  readonly limit: number;
  readonly after?: Keyset | null;
  readonly offset?: number;
}

/** A centre as the read interfaces describe where a study lives. */
export interface CenterDirectoryEntry {
  code: string;
  name: string | null;
  /** The centre's own DICOMweb base (WADO-RS/QIDO-RS root), registered with `centers set`. */
  dicomwebUrl: string | null;
  /** The centre PACS's AE title, registered with `centers set`. */
  retrieveAet: string | null;
}

/** A stored study: its row id (stable for the row's life: FHIR's logical id), record and centre. */
export interface MatchedStudy {
  id: number;
  record: StudyRecord;
  center: CenterDirectoryEntry;
}

export interface MatchPage {
  rows: MatchedStudy[];
  /** More rows match past this page. */
  more: boolean;
  /** Where the next page starts (keyset paging), null at the end. */
  next: Keyset | null;
}

/** Escapes LIKE metacharacters with `!` (ESCAPE '!'), so user text is matched literally. */
export function escapeLike(text: string): string {
  return text.replace(/[!%_]/g, (c) => `!${c}`);
}
