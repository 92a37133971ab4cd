import { attributeOf, type QidoAttribute } from './qido-keys.js';

/** Which optional attributes an answer carries besides the always-returned ones (PS3.18 §8.3.4.3). */
export interface IncludeSet {
  /** `includefield=all`: every attribute the record holds. */
  readonly all: boolean;
  /** Tags asked for by keyword or tag. */
  readonly tags: ReadonlySet<string>;
}

/**
 * `includefield` values (comma-separated and/or repeated; keywords, tags or `all`; unknown names
 * ignored), plus the optional attributes the query matched on: a matching key is always returned.
 */
export function includeOf(values: readonly string[], matchedOn: readonly QidoAttribute[]): IncludeSet {
  const names = values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
  const tags = new Set(matchedOn.map((a) => a.tag));
  for (const name of names) {
    const a = attributeOf(name);
    if (a) tags.add(a.tag);
  }
  return { all: names.some((n) => n.toLowerCase() === 'all'), tags };
}

/** Whether an optional attribute is returned. */
export function included(set: IncludeSet, a: QidoAttribute): boolean {
  return set.all || set.tags.has(a.tag);
}
