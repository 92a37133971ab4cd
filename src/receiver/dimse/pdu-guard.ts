/**
 * Reads an association's raw bytes beside dcmjs-dimse (which buffers whatever a PDU header
 * announces, up to 4 GiB, and a DIMSE message over any number of PDUs): it refuses a PDU or a
 * message past its limit before the library holds it, and keeps each message's raw command and
 * identifier, so the identifier is decoded here, in the character set the client declared (the
 * library rewrites SpecificCharacterSet to ISO_IR 192 once it has decoded the text).
 */

export interface GuardLimits {
  /** Bytes one PDU may announce (its 6-byte header aside). */
  maxPduBytes: number;
  /** Bytes of one DIMSE message, command and identifier together, over all its PDUs. */
  maxMessageBytes: number;
}

/** A complete DIMSE message as the client sent it. */
export interface RawMessage {
  commandField: number;
  messageId: number;
  /** The identifier's bytes, in the presentation context's transfer syntax; null: none. */
  dataset: Buffer | null;
  contextId: number;
}

const P_DATA_TF = 0x04;
const NO_DATASET = 0x0101;

/** Command elements are US in Implicit VR Little Endian: (gggg,eeee) length value. */
function commandNumbers(command: Buffer): { field: number; id: number; dataSetType: number } {
  const out = { field: -1, id: -1, dataSetType: NO_DATASET };
  for (let at = 0; at + 8 <= command.length;) {
    const group = command.readUInt16LE(at);
    const element = command.readUInt16LE(at + 2);
    const length = command.readUInt32LE(at + 4);
    const value = at + 8;
    if (group !== 0x0000 || value + length > command.length) break;
    if (length === 2) {
      const n = command.readUInt16LE(value);
      if (element === 0x0100) out.field = n;
      if (element === 0x0110) out.id = n;
      if (element === 0x0800) out.dataSetType = n;
    }
    at = value + length;
  }
  return out;
}

export class PduGuard {
  private header = Buffer.alloc(0);
  private type = -1;
  private remaining = 0;
  private body: Buffer[] = [];
  private command: Buffer[] = [];
  private data: Buffer[] = [];
  private messageBytes = 0;
  private expecting: { field: number; id: number; contextId: number } | null = null;
  private failed = false;

  constructor(
    private readonly limits: GuardLimits,
    private readonly onMessage: (message: RawMessage) => void,
    private readonly onViolation: (reason: string) => void,
  ) {}

  /** Every chunk the socket reads, in order, before the library sees it. */
  feed(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.failed) {
      if (this.type < 0) {
        const need = 6 - this.header.length;
        this.header = Buffer.concat([this.header, chunk.subarray(at, at + need)]);
        at += Math.min(need, chunk.length - at);
        if (this.header.length < 6) return;
        this.startPdu(this.header.readUInt8(0), this.header.readUInt32BE(2));
        continue;
      }
      const take = Math.min(this.remaining, chunk.length - at);
      if (this.type === P_DATA_TF) this.body.push(chunk.subarray(at, at + take));
      this.remaining -= take;
      at += take;
      if (this.remaining === 0) this.endPdu();
    }
  }

  private fail(reason: string): void {
    this.failed = true;
    this.onViolation(reason);
  }

  private startPdu(type: number, length: number): void {
    if (length > this.limits.maxPduBytes) {
      this.fail(`a PDU announced ${length} bytes, more than ${this.limits.maxPduBytes}`);
      return;
    }
    this.type = type;
    this.remaining = length;
    this.body = [];
    if (length === 0) this.endPdu();
  }

  private endPdu(): void {
    const body = this.type === P_DATA_TF ? Buffer.concat(this.body) : null;
    this.type = -1;
    this.header = Buffer.alloc(0);
    this.body = [];
    if (body) this.readPdvs(body);
  }

  /** PDV items: length (4), presentation context id (1), control header (1: bit 0 command, bit 1 last). */
  private readPdvs(body: Buffer): void {
    for (let at = 0; at < body.length && !this.failed;) {
      if (at + 6 > body.length) return this.fail('a truncated PDV item');
      const length = body.readUInt32BE(at);
      if (length < 2 || at + 4 + length > body.length) return this.fail('a PDV item longer than its PDU');
      const contextId = body.readUInt8(at + 4);
      const control = body.readUInt8(at + 5);
      this.fragment(contextId, (control & 1) === 1, (control & 2) === 2, body.subarray(at + 6, at + 4 + length));
      at += 4 + length;
    }
  }

  private fragment(contextId: number, isCommand: boolean, last: boolean, value: Buffer): void {
    this.messageBytes += value.length;
    if (this.messageBytes > this.limits.maxMessageBytes) return this.fail(`a DIMSE message of more than ${this.limits.maxMessageBytes} bytes`);
    if (isCommand) {
      this.command.push(value);
      if (!last) return;
      const numbers = commandNumbers(Buffer.concat(this.command));
      this.command = [];
      if (numbers.dataSetType === NO_DATASET) return this.complete({ commandField: numbers.field, messageId: numbers.id, dataset: null, contextId });
      this.expecting = { field: numbers.field, id: numbers.id, contextId };
      return;
    }
    this.data.push(value);
    if (!last) return;
    const dataset = Buffer.concat(this.data);
    const expecting = this.expecting ?? { field: -1, id: -1, contextId };
    this.complete({ commandField: expecting.field, messageId: expecting.id, dataset, contextId: expecting.contextId });
  }

  private complete(message: RawMessage): void {
    this.data = [];
    this.expecting = null;
    this.messageBytes = 0;
    this.onMessage(message);
  }
}

/** The messages a guard kept, until the SCP takes each one up (a few at most: DIMSE is one operation at a time). */
export class RawMessages {
  private readonly queue: RawMessage[] = [];

  constructor(private readonly keep = 8) {}

  add(message: RawMessage): void {
    this.queue.push(message);
    if (this.queue.length > this.keep) this.queue.shift();
  }

  /** The message with this command field and id (and drops those before it), or null. */
  take(commandField: number, messageId: number): RawMessage | null {
    const i = this.queue.findIndex((m) => m.commandField === commandField && m.messageId === messageId);
    if (i < 0) return null;
    const [message] = this.queue.splice(0, i + 1).slice(-1);
    return message ?? null;
  }
}
