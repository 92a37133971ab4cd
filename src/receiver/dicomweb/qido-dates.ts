import { badRequest } from '../http/api-error.js';

/**
 * DA and TM query values (PS3.4 C.2.2.2.5 range matching): a single value or a range `a-b`, `-b`,
 * `a-`, turned into the inclusive bounds StudyMatch takes (YYYY-MM-DD, HH:MM:SS). Errors name the
 * key and the form expected, never the value.
 */

export interface Bounds {
  from?: string;
  to?: string;
}

const DA = '(\\d{8}|\\d{4}-\\d{2}-\\d{2})';
const DA_SINGLE = new RegExp(`^${DA}$`);
const DA_RANGE = new RegExp(`^${DA}?-${DA}?$`);

/** YYYY-MM-DD of a DA (`YYYYMMDD` or `YYYY-MM-DD`) that is a real calendar date, else null. */
function isoDate(v: string): string | null {
  const d = v.replace(/-/g, '');
  const [y, m, day] = [Number(d.slice(0, 4)), Number(d.slice(4, 6)), Number(d.slice(6, 8))];
  const date = new Date(Date.UTC(y, m - 1, day));
  if (y < 1 || date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== day) return null;
  return `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}`;
}

function badDate(key: string): Error {
  return badRequest(`${key} must be a date YYYYMMDD (or YYYY-MM-DD) or a range of them (a-b, -b, a-), each a real calendar date`);
}

/** A StudyDate query value as inclusive date bounds; a single date is both. */
export function parseDateQuery(key: string, value: string): Bounds {
  if (DA_SINGLE.test(value)) {
    const d = isoDate(value);
    if (!d) throw badDate(key);
    return { from: d, to: d };
  }
  const m = DA_RANGE.exec(value);
  if (!m || (m[1] === undefined && m[2] === undefined)) throw badDate(key);
  const from = m[1] === undefined ? undefined : isoDate(m[1]);
  const to = m[2] === undefined ? undefined : isoDate(m[2]);
  if (from === null || to === null) throw badDate(key);
  if (from !== undefined && to !== undefined && from > to) throw badRequest(`${key}: the range's start is after its end`);
  return { ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) };
}

/** HH, HHMM or HHMMSS with an optional fraction (ignored: the index keeps whole seconds). */
const TM = '(\\d{2}(?:\\d{2}(?:\\d{2}(?:\\.\\d{1,6})?)?)?)';
const TM_SINGLE = new RegExp(`^${TM}$`);
const TM_RANGE = new RegExp(`^${TM}?-${TM}?$`);

/**
 * HH:MM:SS of a TM, its missing parts filled with `pad` (00 for a lower bound, 59 for an upper
 * one, so `10` as an upper bound is 10:59:59); null when a part is out of range.
 */
function isoTime(v: string, pad: '00' | '59'): string | null {
  const digits = v.split('.')[0]!;
  const [hh, mm, ss] = [digits.slice(0, 2), digits.slice(2, 4) || pad, digits.slice(4, 6) || pad];
  if (Number(hh) > 23 || Number(mm) > 59 || Number(ss) > 59) return null;
  return `${hh}:${mm}:${ss}`;
}

function badTime(key: string): Error {
  return badRequest(`${key} must be a time HH, HHMM or HHMMSS[.ffffff] (00-23, 00-59, 00-59) or a range of them (a-b, -b, a-)`);
}

/**
 * A StudyTime query value as inclusive time-of-day bounds. A single value is the span it names:
 * `1030` is 10:30:00–10:30:59, `10` the whole hour.
 */
export function parseTimeQuery(key: string, value: string): { timeFrom?: string; timeTo?: string } {
  const single = TM_SINGLE.exec(value);
  const m = single ? [value, value, value] : TM_RANGE.exec(value);
  if (!m || (m[1] === undefined && m[2] === undefined)) throw badTime(key);
  const from = m[1] === undefined ? undefined : isoTime(m[1], '00');
  const to = m[2] === undefined ? undefined : isoTime(m[2], '59');
  if (from === null || to === null) throw badTime(key);
  if (from !== undefined && to !== undefined && from > to) throw badRequest(`${key}: the range's start is after its end (ranges across midnight are not supported)`);
  return { ...(from === undefined ? {} : { timeFrom: from }), ...(to === undefined ? {} : { timeTo: to }) };
}
