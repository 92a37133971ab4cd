import { encodeText, type AnswerCharset } from './charsets.js';

/**
 * An answer identifier encoded in Implicit or Explicit VR Little Endian, its text in the answer's
 * character set (dcmjs would write UTF-8 whatever SpecificCharacterSet says). Flat: C-FIND answers
 * of this index carry no sequences.
 */

export interface AnswerElement {
  /** 8 upper-case hex digits. */
  tag: string;
  vr: string;
  /** Values (joined with `\`); empty: a zero-length element (a return key without a value). */
  values: readonly string[];
}

/** VRs whose characters follow SpecificCharacterSet; the others are the default repertoire. */
const TEXT_VRS = new Set(['SH', 'LO', 'PN', 'ST', 'LT', 'UT', 'UC']);
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

function valueBytes(e: AnswerElement, charset: AnswerCharset): Buffer {
  const text = e.values.join('\\');
  const bytes = TEXT_VRS.has(e.vr) ? encodeText(text, charset) : Buffer.from(text.replace(/[^\x20-\x7e]/g, '?'), 'latin1');
  if (bytes.length % 2 === 0) return bytes;
  // Even lengths (PS3.5 §7.1.1): UIDs are padded with NUL, everything else with a space.
  return Buffer.concat([bytes, Buffer.from([e.vr === 'UI' ? 0x00 : 0x20])]);
}

function header(e: AnswerElement, length: number, explicit: boolean): Buffer {
  const group = parseInt(e.tag.slice(0, 4), 16);
  const element = parseInt(e.tag.slice(4), 16);
  if (!explicit) {
    const h = Buffer.alloc(8);
    h.writeUInt16LE(group, 0);
    h.writeUInt16LE(element, 2);
    h.writeUInt32LE(length, 4);
    return h;
  }
  const long = LONG_VRS.has(e.vr);
  const h = Buffer.alloc(long ? 12 : 8);
  h.writeUInt16LE(group, 0);
  h.writeUInt16LE(element, 2);
  h.write(e.vr, 4, 'latin1');
  if (long) h.writeUInt32LE(length, 8);
  else h.writeUInt16LE(Math.min(length, 0xffff), 6);
  return h;
}

/** The elements in ascending tag order (one each), encoded. */
export function writeIdentifier(elements: readonly AnswerElement[], charset: AnswerCharset, explicit: boolean): Buffer {
  const sorted = [...new Map(elements.map((e) => [e.tag, e])).values()].sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  const parts: Buffer[] = [];
  for (const e of sorted) {
    const value = valueBytes(e, charset);
    parts.push(header(e, value.length, explicit), value);
  }
  return Buffer.concat(parts);
}
