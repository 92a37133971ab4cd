import { foldText } from '../../shared/patient-key.js';
import { escapeLike, type NameMatch, type TextMatch } from '../store/study-match.js';

/**
 * Text and person-name query values (PS3.4 C.2.2.2: single value, wildcard `*` and `?`) turned into
 * the store's TextMatch / NameMatch / folded family-name conditions.
 */

export const hasWildcard = (v: string): boolean => /[*?]/.test(v);

/** A LIKE pattern (ESCAPE '!') of a DICOM wildcard value: `*` → `%`, `?` → `_`, the rest literal. */
export function wildcardLike(v: string): string {
  return v.replace(/[*?]|[^*?]+/g, (part) => (part === '*' ? '%' : part === '?' ? '_' : escapeLike(part)));
}

/** Equality without a wildcard, else a LIKE pattern. */
export function textMatch(v: string): TextMatch {
  return hasWildcard(v) ? { like: wildcardLike(v) } : { equals: v };
}

/** What a PN query value asks of a stored name. */
export interface PnConditions {
  /** On the folded family-name column (PatientName only): equality or an index-friendly prefix. */
  familyName?: TextMatch;
  name?: NameMatch;
}

/**
 * A prefix pattern on folded text: folding trims, but a blank the client typed before the
 * wildcard (`PÉREZ *`) separates words, so one is kept (`PEREZ %` does not find PEREZOSO).
 */
function foldedPrefix(prefix: string): string {
  const folded = escapeLike(foldText(prefix));
  return /\s$/.test(prefix) && folded !== '' ? `${folded} ` : folded;
}

/** The family component (PatientName): on the folded column when it can, else on the component. */
function familyConditions(family: string, folded: boolean): { familyName?: TextMatch; component: TextMatch | null } {
  if (family === '' || /^\*+$/.test(family)) return { component: null };
  if (!folded) return { component: textMatch(family) };
  if (!hasWildcard(family)) return { familyName: { equals: foldText(family) }, component: null };
  const prefix = family.slice(0, family.search(/[*?]/));
  if (/^[^*?]+\*+$/.test(family)) return { familyName: { like: `${foldedPrefix(prefix)}%` }, component: null };
  // Any other pattern is matched on the component itself; a literal prefix still lets the index narrow.
  const help = foldText(prefix) === '' ? {} : { familyName: { like: `${foldedPrefix(prefix)}%` } };
  return { ...help, component: { like: wildcardLike(family) } };
}

/**
 * A PN query value. Only the alphabetic group (before the first `=`) is matched. With `^` it is
 * component by component; without, a leading `*` (OHIF's `*x*`) matches anywhere in the whole name,
 * anything else is the family name. `folded`: PatientName, whose family name has a folded, indexed
 * column; ReferringPhysicianName has none (its conditions are on the components).
 */
export function pnConditions(value: string, folded: boolean): PnConditions {
  const alphabetic = (value.split('=')[0] ?? '').trim();
  if (alphabetic === '' || /^\*+$/.test(alphabetic)) return {};
  // A blank typed in a whole-name search (`*munoz jose*`) matches a blank or the `^` between components.
  if (!alphabetic.includes('^') && alphabetic.startsWith('*')) return { name: { whole: wildcardLike(alphabetic).replace(/ +/g, '_') } };
  const [family = '', ...rest] = alphabetic.split('^').map((c) => c.trim());
  const head = familyConditions(family, folded);
  const components: (TextMatch | null)[] = [head.component, ...rest.map((c) => (c === '' || /^\*+$/.test(c) ? null : textMatch(c)))];
  while (components.length > 0 && components[components.length - 1] === null) components.pop();
  return {
    ...(head.familyName ? { familyName: head.familyName } : {}),
    ...(components.length > 0 ? { name: { components } } : {}),
  };
}
