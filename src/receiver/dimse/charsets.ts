/**
 * Character sets of C-FIND identifiers (PS3.3 C.12.1.1.2): how a request's text is decoded from the
 * SpecificCharacterSet it declares, and which one its answers are encoded in — UTF-8 (ISO_IR 192),
 * or Latin-1 (ISO_IR 100) for a client that asked in Latin-1.
 */

export type AnswerCharset = 'ISO_IR 192' | 'ISO_IR 100';

export interface RequestCharset {
  decode(bytes: Buffer): string;
  answer: AnswerCharset;
}

/** Single-byte and multi-byte sets without code extensions, by defined term, as WHATWG labels. */
const DECODERS: Record<string, string> = {
  'ISO_IR 101': 'iso-8859-2', 'ISO_IR 109': 'iso-8859-3', 'ISO_IR 110': 'iso-8859-4', 'ISO_IR 144': 'iso-8859-5',
  'ISO_IR 127': 'iso-8859-6', 'ISO_IR 126': 'iso-8859-7', 'ISO_IR 138': 'iso-8859-8', 'ISO_IR 148': 'iso-8859-9',
  'ISO_IR 203': 'iso-8859-15', 'ISO_IR 166': 'windows-874', GB18030: 'gb18030', GBK: 'gbk',
};

/** ISO-8859-1 itself (WHATWG's "latin1" is windows-1252). */
const latin1 = (bytes: Buffer): string => bytes.toString('latin1');

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const utf8 = new TextDecoder('utf-8');

/** The default repertoire (no SpecificCharacterSet) is ASCII; clients that send more without saying so mostly mean UTF-8, else Latin-1. */
function undeclared(bytes: Buffer): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return latin1(bytes);
  }
}

export class CharsetError extends Error {}

/**
 * The request's character set from its SpecificCharacterSet values (already split on `\`). Code
 * extensions (ISO 2022 escape sequences) are not supported: a value holding ESC is refused by
 * the caller (hasEscape); without one, an ISO 2022 declaration decodes as its first set.
 */
export function requestCharset(terms: readonly string[]): RequestCharset {
  const first = (terms[0] ?? '').trim().toUpperCase();
  const term = first.replace(/^ISO 2022 IR /, 'ISO_IR ');
  if (term === '' || term === 'ISO_IR 6') return { decode: undeclared, answer: 'ISO_IR 192' };
  if (term === 'ISO_IR 192') return { decode: (b) => utf8.decode(b), answer: 'ISO_IR 192' };
  if (term === 'ISO_IR 100') return { decode: latin1, answer: 'ISO_IR 100' };
  const label = DECODERS[term];
  if (!label) throw new CharsetError('SpecificCharacterSet is not supported: use ISO_IR 192 or ISO_IR 100');
  const decoder = new TextDecoder(label);
  return { decode: (b) => decoder.decode(b), answer: 'ISO_IR 192' };
}

export const hasEscape = (bytes: Buffer): boolean => bytes.includes(0x1b);

/** Text in the answer's character set; a character Latin-1 cannot hold becomes `?`. */
export function encodeText(text: string, charset: AnswerCharset): Buffer {
  if (charset === 'ISO_IR 192') return Buffer.from(text, 'utf8');
  return Buffer.from(Array.from(text, (c) => (c.codePointAt(0)! <= 0xff ? c.codePointAt(0)! : 0x3f)));
}
