import { foldText } from '../../shared/patient-key.js';
import type { CenterDirectoryEntry } from '../store/study-match.js';
import type { CenterFilter } from './qido-params.js';

/** A DICOM wildcard value (`*`, `?`) as an anchored regular expression over folded text. */
function wildcardRegExp(pattern: string): RegExp {
  const body = foldText(pattern).replace(/[*?]|[^*?]+/g, (part) =>
    part === '*' ? '.*' : part === '?' ? '.' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${body}$`, 's');
}

/**
 * The centre codes a query's centre keys select: InstitutionName against each centre's name and
 * code (case- and accent-insensitive, `*` and `?`), the private centre-code key exactly; both: the
 * centres both select. An empty list matches nothing.
 */
export function centersOf(filter: CenterFilter, directory: readonly CenterDirectoryEntry[]): string[] {
  let selected = directory;
  if (filter.institution !== undefined) {
    const re = wildcardRegExp(filter.institution);
    selected = selected.filter((c) => re.test(foldText(c.code)) || (c.name !== null && re.test(foldText(c.name))));
  }
  if (filter.codes !== undefined) {
    const codes = new Set(filter.codes);
    selected = selected.filter((c) => codes.has(c.code));
  }
  return selected.map((c) => c.code);
}
