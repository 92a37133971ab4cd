import { validate as validateCron } from 'node-cron';
import { defineFormat, intFormat } from '../shared/config-checks.js';

/** The formats of the agent's configuration keys, shared by its schema and the sources' fragments. */

// Legacy config.json files write numbers as strings ("3306"): intFormat accepts both, stores a number.
export const TCP_PORT = intFormat(1, 65535, 'a whole number');
export const POSITIVE_INT = intFormat(1, 1_000_000_000, 'a whole number');
export const BATCH_SIZE = intFormat(1, 10_000, 'a whole number');
export const COUNT = intFormat(0, 1_000_000, 'a whole number');

export const NON_EMPTY_STRING = defineFormat('non-empty-string', {
  expected: 'a non-empty string',
  check: (v) => (typeof v === 'string' && v.trim() !== '' ? null : 'a non-empty string'),
});

export const OPTIONAL_STRING = defineFormat('optional-string', {
  expected: 'a string or null',
  check: (v) => (v === null || typeof v === 'string' ? null : 'a string or null'),
});

const CENTER_CODE_TEXT = '1 to 32 letters, digits, "_", "-" or "." (e.g. "000")';
export const CENTER_CODE = defineFormat('center-code', {
  expected: CENTER_CODE_TEXT,
  // Empty: checked by the commands that need a centre.
  check: (v) => (v === null || v === '' || (typeof v === 'string' && /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/.test(v)) ? null : CENTER_CODE_TEXT),
});

/**
 * A `#` in a URL starts its fragment: `http://user:pa#ss@host` silently becomes another host (or
 * an "invalid URL"). These URLs never need a fragment, so a `#` is a password or path character
 * that must be written %23.
 */
export const HTTP_URL = defineFormat('http-url', {
  expected: 'an absolute http:// or https:// URL',
  check(v) {
    if (v === null || v === '') return null;
    if (typeof v === 'string' && v.includes('#')) return 'a URL without "#": percent-encode "#" as %23 (e.g. in a password)';
    let u: URL;
    try {
      u = new URL(String(v));
    } catch {
      return 'an absolute http:// or https:// URL';
    }
    return u.protocol === 'http:' || u.protocol === 'https:' ? null : 'an http:// or https:// URL';
  },
});

const CRON_TEXT = 'a cron expression of 5 fields (or 6, the first being seconds)';
export const CRON_EXPRESSION = defineFormat('cron-expression', {
  expected: CRON_TEXT,
  check(v) {
    const fields = typeof v === 'string' ? v.trim().split(/\s+/) : [];
    if (fields.length !== 5 && fields.length !== 6) return CRON_TEXT;
    // node-cron's own parser: what it accepts is exactly what `indexer daemon` can schedule.
    return validateCron(String(v)) ? null : `${CRON_TEXT}, each field in range (minute 0-59, hour 0-23, day 1-31, month 1-12, weekday 0-7)`;
  },
});
