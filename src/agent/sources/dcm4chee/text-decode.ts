import { isUtf8 } from 'node:buffer';
import { cleanText } from '../../../shared/record-values.js';

/**
 * Text columns are read as raw bytes because the column charset lies: dcm4chee sites often write
 * UTF-8 bytes through a latin1 connection into latin1 columns (double encoding), while others
 * store genuine latin1/cp1252. Valid UTF-8 is taken as UTF-8 (multi-byte latin1 text that happens
 * to be valid UTF-8 is vanishingly rare in names); anything else is windows-1252, a superset of
 * latin1 for printable characters.
 */
// Node's TextDecoder('windows-1252') decodes as ISO-8859-1, so the 0x80-0x9F block is mapped here
// (the five bytes windows-1252 leaves undefined stay as their C1 code points).
const CP1252_HIGH =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

export function decodeCp1252(bytes: Buffer): string {
  const text = bytes.toString('latin1');
  return /[\u0080-\u009f]/.test(text) ? text.replace(/[\u0080-\u009f]/g, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80]!) : text;
}

export function decodeText(value: Buffer | string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return cleanText(value);
  return cleanText(isUtf8(value) ? value.toString('utf8') : decodeCp1252(value));
}
