import { invalid, notSupported } from './operation-outcome.js';

/**
 * The value syntax of FHIR search parameters (R4 search.html): `,` separates alternatives (OR),
 * `|` a token's system from its code, and `\` escapes either. Messages name the parameter and what
 * was expected, never the value (it may be a patient id).
 */

/** Splits on every unescaped `sep`, keeping escapes in the parts (a later split still sees them). */
function splitUnescaped(text: string, sep: string, max = Infinity): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) {
      current += c + text[i + 1]!;
      i += 1;
    } else if (c === sep && parts.length < max - 1) {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
}

const unescape = (text: string): string => text.replace(/\\([\\|,$])/g, '$1');

/** The alternatives of one occurrence of a parameter (`a,b` is a OR b), each still escaped. */
export function alternatives(value: string): string[] {
  return splitUnescaped(value, ',');
}

export interface Token {
  /** null: no `|` given (any system); '' : `|code`. */
  system: string | null;
  code: string;
}

/** Longest value accepted in any search parameter: every stored value is shorter. */
export const MAX_VALUE_CHARS = 255;

export function checkLength(name: string, value: string, max = MAX_VALUE_CHARS): void {
  if (value.length > max) throw invalid(`search parameter "${name}": a value is longer than ${max} characters`);
}

/** `[system]|[code]` or `[code]`, unescaped; an empty code is refused (it would silently widen nothing). */
export function token(name: string, alternative: string): Token {
  const parts = splitUnescaped(alternative, '|', 2);
  const code = unescape(parts.length === 2 ? parts[1]! : parts[0]!).trim();
  const system = parts.length === 2 ? unescape(parts[0]!).trim() : null;
  if (code === '') throw invalid(`search parameter "${name}" needs a value after any system ("system|value" or "value")`);
  checkLength(name, code);
  if (system !== null) checkLength(name, system, 1024);
  return { system, code };
}

/** `system|code|value` of the `:of-type` modifier. */
export function typedToken(name: string, alternative: string): { system: string; code: string; value: string } {
  const parts = splitUnescaped(alternative, '|').map((p) => unescape(p).trim());
  if (parts.length !== 3 || parts.some((p) => p === '')) {
    throw invalid(`search parameter "${name}" must be "type-system|type-code|value"`);
  }
  for (const p of parts) checkLength(name, p, 1024);
  return { system: parts[0]!, code: parts[1]!, value: parts[2]! };
}

/** Printable ASCII: the columns of UIDs, centre codes and modalities are ASCII (anything else can never match). */
export const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

export interface DateBounds {
  /** YYYY-MM-DD inclusive; undefined: open. */
  from?: string;
  to?: string;
  /** No date can satisfy it (e.g. gt9999-12-31). */
  impossible?: true;
}

const DATE_VALUE =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
const iso = (d: Date): string => `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;

function utcDate(y: number, m: number, d: number): Date {
  const date = new Date(0);
  date.setUTCFullYear(y, m - 1, d);
  return date;
}

/** The day before/after, null outside the years 0001–9999 (no stored date lies there). */
function shiftDay(day: string, by: 1 | -1): string | null {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const shifted = utcDate(y, m, d + by);
  const year = shifted.getUTCFullYear();
  return year < 1 || year > 9999 ? null : iso(shifted);
}

interface DateRange {
  lo: string;
  hi: string;
  /** A time was given: the value lies inside its day. */
  timed: boolean;
}

function validTime(h: string | undefined, mi: string | undefined, s: string | undefined, zone: string | undefined): boolean {
  if (h === undefined) return true;
  if (Number(h) > 23 || Number(mi) > 59 || (s !== undefined && Number(s) > 59)) return false;
  if (zone === undefined || zone === 'Z') return true;
  const [zh, zm] = zone.slice(1).split(':').map(Number) as [number, number];
  return zm <= 59 && zh * 60 + zm <= 14 * 60;
}

/** A FHIR date or dateTime as the range of days it covers (YYYY, YYYY-MM, YYYY-MM-DD; a time: its day). */
function dateRange(name: string, text: string): DateRange {
  const m = DATE_VALUE.exec(text);
  const fail = () => invalid(`search parameter "${name}" must be a real date: YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss][zone], after an optional prefix eq, ge, le, gt or lt`);
  if (!m) throw fail();
  const [y, mo, d] = [Number(m[1]), m[2] === undefined ? undefined : Number(m[2]), m[3] === undefined ? undefined : Number(m[3])];
  if (y < 1 || (mo !== undefined && (mo < 1 || mo > 12))) throw fail();
  if (d !== undefined && (d < 1 || utcDate(y, mo!, d).getUTCMonth() !== mo! - 1)) throw fail();
  if (!validTime(m[4], m[5], m[6], m[7])) throw fail();
  if (d !== undefined) {
    const day = `${pad(y, 4)}-${pad(mo!)}-${pad(d)}`;
    return { lo: day, hi: day, timed: m[4] !== undefined };
  }
  if (mo !== undefined) return { lo: `${pad(y, 4)}-${pad(mo)}-01`, hi: iso(utcDate(y, mo + 1, 0)), timed: false };
  return { lo: `${pad(y, 4)}-01-01`, hi: `${pad(y, 4)}-12-31`, timed: false };
}

const PREFIX = /^(eq|ne|gt|lt|ge|le|sa|eb|ap)?(.*)$/;

/**
 * One `started` value as day bounds. The studies' dates are days (their times are local, zone
 * unknown), so a value is compared by the days it covers: eq = within, ge/le = from/to, gt/lt =
 * after/before — a value with a time shares its day with the open range, so gt/lt keep that day.
 */
export function dateBounds(name: string, value: string): DateBounds {
  const [, prefix = 'eq', rest = ''] = PREFIX.exec(value.trim())!;
  if (['ne', 'sa', 'eb', 'ap'].includes(prefix)) {
    throw notSupported(`search parameter "${name}": the prefix "${prefix}" is not supported (use eq, ge, le, gt or lt)`);
  }
  // An unencoded `+` of a zone arrives as a space (form decoding): read it back as the `+` it was.
  const r = dateRange(name, rest.replace(/(T[0-9:.]+) (\d{2}:\d{2})$/, '$1+$2'));
  switch (prefix) {
    case 'ge': return { from: r.lo };
    case 'le': return { to: r.hi };
    case 'gt': return r.timed ? { from: r.lo } : orImpossible({ from: shiftDay(r.hi, 1) });
    case 'lt': return r.timed ? { to: r.hi } : orImpossible({ to: shiftDay(r.lo, -1) });
    default: return { from: r.lo, to: r.hi };
  }
}

function orImpossible(b: { from?: string | null; to?: string | null }): DateBounds {
  if (b.from === null || b.to === null) return { impossible: true };
  return b as DateBounds;
}

/** Several `started` are AND-ed: the intersection of their bounds. */
export function intersectBounds(a: DateBounds, b: DateBounds): DateBounds {
  if (a.impossible || b.impossible) return { impossible: true };
  const from = [a.from, b.from].filter((x): x is string => x !== undefined).sort().pop();
  const to = [a.to, b.to].filter((x): x is string => x !== undefined).sort()[0];
  if (from !== undefined && to !== undefined && from > to) return { impossible: true };
  return { ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) };
}
