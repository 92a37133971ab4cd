/**
 * Calendar days as `YYYY-MM-DD` text (the record's day: dayOf), counted in whole days. The PACS
 * files studies under its local date; "today" is the agent's local date (set TZ where they differ).
 */
const DAY_MS = 86_400_000;

function epochDay(day: string): number {
  return Date.UTC(Number(day.slice(0, 4)), Number(day.slice(5, 7)) - 1, Number(day.slice(8, 10))) / DAY_MS;
}

function dayAt(epoch: number): string {
  return new Date(epoch * DAY_MS).toISOString().slice(0, 10);
}

export function addDays(day: string, n: number): string {
  return dayAt(epochDay(day) + n);
}

/** Days from `from` to `to`, both included (0 when `to` is before `from`). */
export function daysBetween(from: string, to: string): number {
  return Math.max(0, epochDay(to) - epochDay(from) + 1);
}

/** The local date of `now`. */
export function localDay(now: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

/** `YYYY-MM-DD` → DICOM DA `YYYYMMDD`. */
export function dicomDate(day: string): string {
  return day.replace(/-/g, '');
}

/** Every day of [from, to], newest first. */
export function daysNewestFirst(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = to; d >= from; d = addDays(d, -1)) out.push(d);
  return out;
}
