import { connect, type Socket } from 'node:net';

/**
 * A hand-made DICOM upper layer client for hostile tests: it writes exactly the bytes a test asks
 * for (PDUs no real toolkit would send: lengths that lie, identifiers that do not parse, messages
 * too large) and reads back PDUs, so the SCP's refusals can be seen.
 */

export const VERIFICATION = '1.2.840.10008.1.1';
export const STUDY_ROOT_FIND = '1.2.840.10008.5.1.4.1.2.2.1';
export const IMPLICIT_LE = '1.2.840.10008.1.2';
export const EXPLICIT_LE = '1.2.840.10008.1.2.1';

const pad = (text: string, n: number): Buffer => Buffer.from(text.padEnd(n, ' ').slice(0, n), 'latin1');
const u16 = (n: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; };
const u32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
const item = (type: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([type, 0]), u16(body.length), body]);

export function pdu(type: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type, 0]), u32(body.length), body]);
}

/** A-ASSOCIATE-RQ proposing each abstract syntax (context ids 1, 3, …) with both little-endian syntaxes. */
export function associateRq(calling: string, called: string, syntaxes: string[], maxPdu = 16384): Buffer {
  const contexts = syntaxes.map((uid, i) => item(0x20, Buffer.concat([
    Buffer.from([1 + 2 * i, 0, 0, 0]), item(0x30, Buffer.from(uid)), item(0x40, Buffer.from(EXPLICIT_LE)), item(0x40, Buffer.from(IMPLICIT_LE)),
  ])));
  const user = item(0x50, item(0x51, u32(maxPdu)));
  return pdu(0x01, Buffer.concat([u16(1), u16(0), pad(called, 16), pad(calling, 16), Buffer.alloc(32), item(0x10, Buffer.from('1.2.840.10008.3.1.1.1')), ...contexts, user]));
}

/** One P-DATA-TF holding one PDV. */
export function pdata(contextId: number, command: boolean, last: boolean, value: Buffer): Buffer {
  return pdu(0x04, Buffer.concat([u32(value.length + 2), Buffer.from([contextId, (command ? 1 : 0) | (last ? 2 : 0)]), value]));
}

function element(group: number, el: number, value: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16LE(group, 0);
  h.writeUInt16LE(el, 2);
  h.writeUInt32LE(value.length, 4);
  return Buffer.concat([h, value]);
}

const us = (n: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16LE(n); return b; };
const ui = (uid: string): Buffer => Buffer.from(uid.length % 2 ? `${uid}\0` : uid, 'latin1');

/** A C-FIND-RQ command set (Implicit VR Little Endian), with a dataset to follow. */
export function findCommand(messageId: number, sopClass = STUDY_ROOT_FIND): Buffer {
  const body = Buffer.concat([element(0, 0x0002, ui(sopClass)), element(0, 0x0100, us(0x0020)), element(0, 0x0110, us(messageId)), element(0, 0x0700, us(0)), element(0, 0x0800, us(0x0000))]);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(body.length);
  return Buffer.concat([element(0, 0x0000, length), body]);
}

/** An Explicit VR Little Endian element with a 2-byte length (a test may give any VR and bytes). */
export function explicitElement(tag: string, vr: string, value: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16LE(parseInt(tag.slice(0, 4), 16), 0);
  h.writeUInt16LE(parseInt(tag.slice(4), 16), 2);
  h.write(vr, 4, 'latin1');
  h.writeUInt16LE(value.length, 6);
  return Buffer.concat([h, value]);
}

/** The result of each presentation context of an A-ASSOCIATE-AC body, by context id (0 accepted, 3 abstract syntax not supported). */
export function contextResults(ac: Buffer): Record<number, number> {
  const out: Record<number, number> = {};
  for (let at = 68; at + 4 <= ac.length;) {
    const type = ac[at]!;
    const length = ac.readUInt16BE(at + 2);
    if (type === 0x21) out[ac[at + 4]!] = ac[at + 6]!;
    at += 4 + length;
  }
  return out;
}

export interface RawPdu {
  type: number;
  body: Buffer;
}

/** A connection that collects every PDU the server sends, and whether (and when) it closed. */
export class RawAssociation {
  readonly pdus: RawPdu[] = [];
  closed = false;
  private buffer = Buffer.alloc(0);
  readonly socket: Socket;

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => {
      this.closed = true;
    });
    this.socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      while (this.buffer.length >= 6 && this.buffer.length >= 6 + this.buffer.readUInt32BE(2)) {
        const length = this.buffer.readUInt32BE(2);
        this.pdus.push({ type: this.buffer[0]!, body: this.buffer.subarray(6, 6 + length) });
        this.buffer = this.buffer.subarray(6 + length);
      }
    });
  }

  ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once('connect', () => resolve());
      this.socket.once('error', reject);
    });
  }

  send(bytes: Buffer): Promise<void> {
    return new Promise((resolve) => this.socket.write(bytes, () => resolve()));
  }

  /** Waits until a PDU of `type` arrived (returns it) or the connection closed (null). */
  async next(type: number, timeoutMs = 5000): Promise<RawPdu | null> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = this.pdus.find((p) => p.type === type);
      if (found) return found;
      if (this.closed || Date.now() > until) return null;
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** The DIMSE statuses of the P-DATA command fragments received so far. */
  statuses(): number[] {
    const out: number[] = [];
    for (const p of this.pdus.filter((x) => x.type === 0x04)) {
      const control = p.body[5]!;
      if ((control & 1) === 0) continue;
      const value = p.body.subarray(6);
      for (let at = 0; at + 8 <= value.length;) {
        const el = value.readUInt16LE(at + 2);
        const length = value.readUInt32LE(at + 4);
        if (el === 0x0900 && length === 2) out.push(value.readUInt16LE(at + 8));
        at += 8 + length;
      }
    }
    return out;
  }

  async closedWithin(ms: number): Promise<boolean> {
    const until = Date.now() + ms;
    while (!this.closed && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    return this.closed;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** An association accepted for Study Root C-FIND (context 1, Explicit VR Little Endian). */
export async function openFind(port: number, calling: string, called: string): Promise<RawAssociation> {
  const a = new RawAssociation(port);
  await a.ready();
  await a.send(associateRq(calling, called, [STUDY_ROOT_FIND]));
  const ac = await a.next(0x02);
  if (!ac) throw new Error(`association not accepted: ${JSON.stringify(a.pdus.map((p) => p.type))}`);
  return a;
}
