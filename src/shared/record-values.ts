/**
 * Normalisation of record values, one implementation for the agent (PACS rows, Orthanc tags) and
 * the receiver (v2 and legacy posts), so both turn the same messy value into the same result.
 * Sites hold zero dates, impossible calendar dates, free-typed birth dates and Python's `None`;
 * these become null and are reported as invalid (counted), never a crash or a lost study.
 */
export interface ParsedValue<T = string> {
  value: T | null;
  /** A value was present but is not usable (counted: the agent's run summary, the receiver's answer). */
  invalid: boolean;
}

const NONE: ParsedValue<never> = { value: null, invalid: false };
const INVALID: ParsedValue<never> = { value: null, invalid: true };

/** Largest study_series / study_instances the receiver's INT columns hold. */
export const MAX_COUNT = 2 ** 31 - 1;

/**
 * A real calendar date in the years the receiver's DATE/DATETIME columns support (1000–9999):
 * year 0 (MySQL's zero date) or 0001 is a PACS placeholder, not a date.
 */
export function isCalendarDate(year: number, month: number, day: number): boolean {
  if (year < 1000 || year > 9999 || month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
  return day <= days;
}

/** No value at all: null, blank, or the legacy client's `str(None)`. */
function absent(raw: string | null | undefined): boolean {
  return raw === null || raw === undefined || raw.trim() === '' || raw.trim() === 'None';
}

const DATETIME_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?)?$/;
/** DICOM DA / DT (`YYYYMMDD`, `YYYYMMDDHHMMSS`), as a birth date may be: read alike for both dates. */
const COMPACT_DATETIME_RE = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})(?:\.\d+)?)?$/;

/**
 * A DATETIME (driver string `YYYY-MM-DD HH:MM:SS`, the contract's `YYYY-MM-DDTHH:MM:SS`, optional
 * fraction, DICOM `YYYYMMDD[HHMMSS]`, or a date alone = midnight) → `YYYY-MM-DDTHH:MM:SS`, or null.
 */
export function parseDateTime(raw: string | null | undefined): ParsedValue {
  if (absent(raw)) return NONE;
  const text = raw!.trim();
  const m = DATETIME_RE.exec(text) ?? COMPACT_DATETIME_RE.exec(text);
  if (!m) return INVALID;
  const [, y, mo, d, h = '00', mi = '00', s = '00'] = m;
  if (!isCalendarDate(Number(y), Number(mo), Number(d))) return INVALID;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return INVALID;
  return { value: `${y}-${mo}-${d}T${h}:${mi}:${s}`, invalid: false };
}

const BIRTHDATE_RE = /^(\d{4})-?(\d{2})-?(\d{2})$/;

/** A birth date (DICOM DA `YYYYMMDD`, sometimes `YYYY-MM-DD`) → `YYYY-MM-DD`, or null. */
export function parseBirthdate(raw: string | null | undefined): ParsedValue {
  if (absent(raw)) return NONE;
  const m = BIRTHDATE_RE.exec(raw!.trim());
  if (!m) return INVALID;
  const [, y, mo, d] = m;
  if (!isCalendarDate(Number(y), Number(mo), Number(d))) return INVALID;
  return { value: `${y}-${mo}-${d}`, invalid: false };
}

/**
 * An integer given as text: ASCII digits only (`^[0-9]+$`; leading zeros allowed, `007` is 7).
 * No sign, no blank of any kind around it (`\u00a0`, tab, newline), no `+`, exponent, fraction or
 * hex: `Number()` would read `" 5"`, `"0x10"` or `"1e2"`, so a value that only looks like a
 * number to it is not read as one. With `allowMinus`, one leading `-` is read too: a negative
 * count given as text (`"-3"`, the legacy client's `str()` of a garbage count) is the negative
 * number it names, for the caller to treat as it treats that number. Null when the text is not such an integer.
 */
export function parseIntegerText(text: string, allowMinus = false): number | null {
  const m = /^(-?)([0-9]+)$/.exec(text);
  if (!m || (m[1] === '-' && !allowMinus)) return null;
  const n = Number(m[2]);
  return m[1] === '-' ? -n : n;
}

/**
 * A study_series / study_instances count → 0 … MAX_COUNT, or null ("the source cannot tell", as
 * the contract allows): a negative or overflowing count from a PACS is garbage, not a reason to
 * lose the study.
 */
export function parseCount(n: number | null | undefined): ParsedValue<number> {
  if (n === null || n === undefined) return NONE;
  // -0 is a negative count like any other (JSON `-0` and text "-0" alike): unknown, counted.
  if (!Number.isInteger(n) || n < 0 || Object.is(n, -0) || n > MAX_COUNT) return INVALID;
  return { value: n, invalid: false };
}

// Without the u flag a regex sees UTF-16 code units, so it can find the unpaired halves.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATE_ALL = new RegExp(LONE_SURROGATE.source, 'g');

/**
 * Text as the record carries it: NULs dropped (C clients pad fixed fields with them; they break
 * JSON consumers and MySQL), unpaired surrogates replaced (they cannot be stored as UTF-8), blank → null.
 */
export function cleanText(raw: string | null | undefined): string | null {
  if (raw === null || raw === undefined) return null;
  let text = raw.includes('\0') ? raw.replace(/\0/g, '') : raw;
  if (LONE_SURROGATE.test(text)) text = text.replace(LONE_SURROGATE_ALL, '\uFFFD');
  return text.trim() === '' ? null : text;
}
