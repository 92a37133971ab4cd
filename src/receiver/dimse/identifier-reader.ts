/**
 * A C-FIND identifier's top-level elements, read from its raw bytes (Implicit or Explicit VR Little
 * Endian): tag, VR and value bytes. Sequences (and any undefined-length value) are walked over, not
 * kept: no key this index matches on is a sequence. Anything that does not parse is an
 * IdentifierError whose message names the problem and never a value.
 */

export interface RawElement {
  /** 8 upper-case hex digits. */
  tag: string;
  /** The VR sent (Explicit VR), or the dictionary's (Implicit VR; `UN` for a tag it does not know). */
  vr: string;
  value: Buffer;
}

export class IdentifierError extends Error {}

const UNDEFINED = 0xffffffff;
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const ITEM = 'FFFEE000';
const ITEM_END = 'FFFEE00D';
const SEQUENCE_END = 'FFFEE0DD';
const MAX_DEPTH = 8;
const MAX_ELEMENTS = 20_000;

interface Reader {
  buf: Buffer;
  at: number;
  elements: number;
}

const hex4 = (n: number): string => n.toString(16).toUpperCase().padStart(4, '0');

function need(r: Reader, bytes: number): void {
  if (r.at + bytes > r.buf.length) throw new IdentifierError('the identifier is truncated (an element runs past its end)');
}

function readTag(r: Reader): string {
  need(r, 4);
  const tag = hex4(r.buf.readUInt16LE(r.at)) + hex4(r.buf.readUInt16LE(r.at + 2));
  r.at += 4;
  return tag;
}

/** VR and length after the tag; `implicitVr` gives the VR of an Implicit VR element. */
function readHeader(r: Reader, explicit: boolean, tag: string, implicitVr: (tag: string) => string): { vr: string; length: number } {
  if (tag.startsWith('FFFE') || !explicit) {
    need(r, 4);
    const length = r.buf.readUInt32LE(r.at);
    r.at += 4;
    return { vr: tag.startsWith('FFFE') ? '' : implicitVr(tag), length };
  }
  need(r, 4);
  const vr = r.buf.toString('latin1', r.at, r.at + 2);
  if (!/^[A-Z]{2}$/.test(vr)) throw new IdentifierError(`element (${tag.slice(0, 4)},${tag.slice(4)}) has no valid VR (Explicit VR expected)`);
  if (!LONG_VRS.has(vr)) {
    const length = r.buf.readUInt16LE(r.at + 2);
    r.at += 4;
    return { vr, length };
  }
  need(r, 8);
  const length = r.buf.readUInt32LE(r.at + 4);
  r.at += 8;
  return { vr, length };
}

function skip(r: Reader, length: number): void {
  need(r, length);
  r.at += length;
}

/**
 * An undefined-length value: items (each of a defined length, or a nested dataset up to its item
 * delimiter) up to the sequence delimiter. A UN of undefined length is Implicit VR inside (PS3.5 §6.2.2).
 */
function skipUndefined(r: Reader, explicit: boolean, depth: number, implicitVr: (tag: string) => string): void {
  if (depth > MAX_DEPTH) throw new IdentifierError(`the identifier nests sequences deeper than ${MAX_DEPTH} levels`);
  for (;;) {
    const tag = readTag(r);
    const { length } = readHeader(r, explicit, tag, implicitVr);
    if (tag === SEQUENCE_END) return;
    if (tag !== ITEM) throw new IdentifierError('a sequence holds something other than items');
    if (length !== UNDEFINED) {
      skip(r, length);
      continue;
    }
    while (readElement(r, explicit, depth + 1, implicitVr) !== 'item-end');
  }
}

/** One element: kept at depth 0, walked over below; 'item-end' at an item delimiter. */
function readElement(r: Reader, explicit: boolean, depth: number, implicitVr: (tag: string) => string): RawElement | 'item-end' | null {
  r.elements += 1;
  if (r.elements > MAX_ELEMENTS) throw new IdentifierError(`the identifier holds more than ${MAX_ELEMENTS} elements`);
  const tag = readTag(r);
  const { vr, length } = readHeader(r, explicit, tag, implicitVr);
  if (tag === ITEM_END && depth > 0) return 'item-end';
  if (tag.startsWith('FFFE')) throw new IdentifierError('an item or delimiter outside a sequence');
  if (length === UNDEFINED) {
    skipUndefined(r, explicit && vr !== 'UN', depth, implicitVr);
    // Structurally a sequence (Implicit VR, or a UN of undefined length): a known text key sent so has the wrong VR.
    return depth === 0 ? { tag, vr: explicit && vr !== 'UN' ? vr : 'SQ', value: Buffer.alloc(0) } : null;
  }
  need(r, length);
  const value = r.buf.subarray(r.at, r.at + length);
  r.at += length;
  return depth === 0 ? { tag, vr, value } : null;
}

/** The identifier's top-level elements in the order sent. */
export function readIdentifier(buf: Buffer, explicit: boolean, implicitVr: (tag: string) => string): RawElement[] {
  const r: Reader = { buf, at: 0, elements: 0 };
  const out: RawElement[] = [];
  while (r.at < buf.length) {
    const element = readElement(r, explicit, 0, implicitVr);
    if (element && element !== 'item-end') out.push(element);
  }
  return out;
}
