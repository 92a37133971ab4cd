/**
 * Normalised patient keys, so one patient matches across centres and spellings.
 * Chilean RUTs are written `12.345.678-5`, `12345678-5`, `123456785`, with `k` or `K`: every valid
 * form maps to one key (`12345678-5`). Anything else is kept as typed, trimmed and upper-cased.
 */

/** Módulo 11 check digit of a RUT body (digits only): '0'-'9' or 'K'. */
export function rutCheckDigit(body: string): string {
  let sum = 0;
  let factor = 2;
  for (let i = body.length - 1; i >= 0; i -= 1) {
    sum += Number(body[i]) * factor;
    factor = factor === 7 ? 2 : factor + 1;
  }
  const r = 11 - (sum % 11);
  if (r === 11) return '0';
  if (r === 10) return 'K';
  return String(r);
}

const RUT_FORM = /^(\d{1,3}(?:\.\d{3})+|\d+)-?([0-9K])$/;

/** The canonical `BODY-DV` form of a valid RUT, or null when `value` is not one. */
export function parseRut(value: string): string | null {
  const compact = value.replace(/\s+/g, '').toUpperCase();
  const m = RUT_FORM.exec(compact);
  if (!m) return null;
  const body = m[1]!.replace(/\./g, '').replace(/^0+/, '');
  // Real RUTs have at most 9 digits; longer numbers are some other identifier.
  if (body.length === 0 || body.length > 9) return null;
  return rutCheckDigit(body) === m[2] ? `${body}-${m[2]}` : null;
}

/** The key stored beside the raw patient_id and used for lookups; null for a missing/blank id. */
export function patientKey(raw: string | null | undefined): string | null {
  if (raw === null || raw === undefined) return null;
  const trimmed = raw.trim().toUpperCase();
  if (!trimmed) return null;
  return parseRut(trimmed) ?? trimmed;
}

/**
 * Folds text for case- and accent-insensitive matching: NFD, combining marks dropped, upper-cased,
 * blanks collapsed. `Pérez  núñez` → `PEREZ NUNEZ`.
 */
export function foldText(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toUpperCase()
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * The folded family name of a DICOM PN (`FAMILY^GIVEN^MIDDLE`, optionally `alphabetic=ideographic`):
 * what the name search matches as a prefix. Null when there is none.
 */
export function familyNameKey(pn: string | null | undefined): string | null {
  if (pn === null || pn === undefined) return null;
  const alphabetic = pn.split('=')[0] ?? '';
  const family = foldText(alphabetic.split('^')[0] ?? '');
  return family || null;
}
