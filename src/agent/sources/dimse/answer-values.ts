import { cleanText } from '../../../shared/record-values.js';

/**
 * Reading the values of a C-FIND answer as dcmjs-dimse hands them over (a "naturalized" dcmjs
 * dataset): a string for one value, an array for several (`\`-separated on the wire), PN as
 * `[{Alphabetic, Ideographic?, Phonetic?}]`, IS as numbers (`null` when empty), an empty text as
 * `''`, an empty PN as `[]`; an absent key is absent.
 *
 * Character sets: dcmjs decodes by the answer's SpecificCharacterSet (ISO_IR 100 latin1,
 * ISO_IR 192 UTF-8, and the other single-byte sets; afterwards it reports every declared set as
 * "ISO_IR 192"). With none declared it decodes as windows-1252 (the standard's default is ASCII,
 * which that covers). Archives that write UTF-8 without declaring it are common; for those the
 * windows-1252 text is turned back into its bytes and, when they are valid UTF-8 with at least
 * one multi-byte sequence, read as UTF-8 (a latin1 text is practically never valid UTF-8).
 */

const BYTE_OF = new Map<string, number>();
{
  // windows-1252 maps 0x80–0x9F to scattered code points (€, ‚, …); the rest of 0x00–0xFF is itself.
  const decoded = new TextDecoder('latin1').decode(Uint8Array.from({ length: 32 }, (_, i) => 0x80 + i));
  [...decoded].forEach((ch, i) => BYTE_OF.set(ch, 0x80 + i));
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The bytes windows-1252 decoded `text` from, or null when it holds a character it cannot come from. */
function windows1252Bytes(text: string): Uint8Array | null {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const byte = code < 0x80 || (code >= 0xa0 && code <= 0xff) ? code : BYTE_OF.get(text[i]!);
    if (byte === undefined) return null;
    bytes[i] = byte;
  }
  return bytes;
}

/** Undeclared UTF-8 read back as UTF-8; any other text unchanged. */
export function repairUndeclaredUtf8(text: string): string {
  if (!/[^\x00-\x7f]/.test(text)) return text;
  const bytes = windows1252Bytes(text);
  if (!bytes) return text;
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    return text;
  }
}

export interface ValueReader {
  /** A text value (several values joined by `\`), cleaned and trimmed; null when absent or blank. */
  text(key: string): string | null;
  /** A PN value's alphabetic group, components trimmed, trailing empty ones dropped. */
  personName(key: string): string | null;
  /** Every value of a multi-valued code string, trimmed; empty ones dropped. */
  list(key: string): string[];
  /** The raw value as the library gave it. */
  raw(key: string): unknown;
}

function scalarText(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return null;
}

/** A reader over one answer's elements; `undeclared`: the answer named no character set. */
export function valueReader(elements: Record<string, unknown>): ValueReader {
  const undeclared = elements.SpecificCharacterSet === undefined;
  const fix = (s: string): string | null => {
    const cleaned = cleanText(undeclared ? repairUndeclaredUtf8(s) : s);
    return cleaned === null ? null : cleaned.trim();
  };
  const values = (key: string): string[] => {
    const v = elements[key];
    const items = Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
    return items.map(scalarText).filter((s): s is string => s !== null);
  };
  return {
    text: (key) => {
      const parts = values(key);
      return parts.length === 0 ? null : fix(parts.join('\\'));
    },
    personName: (key) => personName(elements[key], fix),
    list: (key) =>
      values(key)
        .flatMap((s) => s.split('\\'))
        .map((s) => fix(s))
        .filter((s): s is string => s !== null && s !== ''),
    raw: (key) => elements[key],
  };
}

/** The first value's alphabetic group: `{Alphabetic}` objects (dcmjs) or a PN string (`A^B=ideo=phon`). */
function personName(v: unknown, fix: (s: string) => string | null): string | null {
  const first = Array.isArray(v) ? v[0] : v;
  let alphabetic: unknown = first;
  if (first !== null && typeof first === 'object') alphabetic = (first as { Alphabetic?: unknown }).Alphabetic;
  if (typeof alphabetic !== 'string') return null;
  const group = fix(alphabetic.split('\\')[0]!.split('=')[0]!);
  if (group === null) return null;
  const components = group.split('^').map((c) => c.trim());
  while (components.length > 0 && components[components.length - 1] === '') components.pop();
  return components.length === 0 ? null : components.join('^');
}
