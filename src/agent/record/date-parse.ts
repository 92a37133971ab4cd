/**
 * Date conversion of PACS values. Sites hold zero dates, impossible calendar dates and free-typed
 * birth dates; these become null and are reported as invalid, never a crash.
 */
export interface ParsedValue {
  value: string | null;
  /** A value was present but is not a real date (counted in the run summary). */
  invalid: boolean;
}

const NONE: ParsedValue = { value: null, invalid: false };
const INVALID: ParsedValue = { value: null, invalid: true };

export function isCalendarDate(year: number, month: number, day: number): boolean {
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
  return day <= days;
}

const DATETIME_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?)?$/;

/** A DATETIME string from the driver (dateStrings) → `YYYY-MM-DDTHH:MM:SS`, or null. */
export function parseDateTime(raw: string | null | undefined): ParsedValue {
  if (raw === null || raw === undefined || raw === '') return NONE;
  const m = DATETIME_RE.exec(raw.trim());
  if (!m) return INVALID;
  const [, y, mo, d, h = '00', mi = '00', s = '00'] = m;
  if (!isCalendarDate(Number(y), Number(mo), Number(d))) return INVALID;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return INVALID;
  return { value: `${y}-${mo}-${d}T${h}:${mi}:${s}`, invalid: false };
}

const BIRTHDATE_RE = /^(\d{4})-?(\d{2})-?(\d{2})$/;

/** pat_birthdate (VARCHAR, DICOM DA `YYYYMMDD`, sometimes `YYYY-MM-DD`) → `YYYY-MM-DD`, or null. */
export function parseBirthdate(raw: string | null | undefined): ParsedValue {
  if (raw === null || raw === undefined) return NONE;
  const text = raw.trim();
  if (text === '') return NONE;
  const m = BIRTHDATE_RE.exec(text);
  if (!m) return INVALID;
  const [, y, mo, d] = m;
  if (!isCalendarDate(Number(y), Number(mo), Number(d))) return INVALID;
  return { value: `${y}-${mo}-${d}`, invalid: false };
}
