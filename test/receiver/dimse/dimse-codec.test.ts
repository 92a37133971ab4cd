import { describe, expect, it } from 'vitest';
import { encodeText, requestCharset } from '../../../src/receiver/dimse/charsets.js';
import { dictionaryVr, findKeys } from '../../../src/receiver/dimse/find-keys.js';
import { errorComment, FindFailure } from '../../../src/receiver/dimse/find-status.js';
import { IdentifierError, readIdentifier } from '../../../src/receiver/dimse/identifier-reader.js';
import { writeIdentifier } from '../../../src/receiver/dimse/identifier-writer.js';
import { PduGuard, RawMessages, type RawMessage } from '../../../src/receiver/dimse/pdu-guard.js';
import { explicitElement, findCommand, pdata, pdu } from './raw-dimse.js';

/** The byte-level pieces of the C-FIND SCP, without a network: identifier codec, character sets, the PDU guard. */

describe('identifier reader and writer', () => {
  const elements = [
    { tag: '00100010', vr: 'PN', values: ['MUÑOZ^CARLA'] },
    { tag: '00080052', vr: 'CS', values: ['STUDY'] },
    { tag: '0020000D', vr: 'UI', values: ['1.2.3'] },
    { tag: '00080061', vr: 'CS', values: ['CT', 'MR'] },
    { tag: '00080054', vr: 'AE', values: [] },
  ];

  for (const explicit of [true, false]) {
    it(`round-trips in ${explicit ? 'Explicit' : 'Implicit'} VR Little Endian, sorted, padded to even lengths`, () => {
      const bytes = writeIdentifier(elements, 'ISO_IR 192', explicit);
      const read = readIdentifier(bytes, explicit, dictionaryVr);
      expect(read.map((e) => e.tag)).toEqual(['00080052', '00080054', '00080061', '00100010', '0020000D']);
      expect(read.map((e) => e.vr)).toEqual(['CS', 'AE', 'CS', 'PN', 'UI']);
      expect(read.every((e) => e.value.length % 2 === 0)).toBe(true);
      expect(read.find((e) => e.tag === '0020000D')!.value).toEqual(Buffer.from('1.2.3\0'));
      expect(read.find((e) => e.tag === '00100010')!.value.toString('utf8').trimEnd()).toBe('MUÑOZ^CARLA');
      expect(read.find((e) => e.tag === '00080061')!.value.toString('latin1').trimEnd()).toBe('CT\\MR');
    });
  }

  it('Latin-1 answers: one byte per character, ? for what Latin-1 lacks', () => {
    expect(encodeText('Ñ=ペ', 'ISO_IR 100')).toEqual(Buffer.from([0xd1, 0x3d, 0x3f]));
    expect(encodeText('Ñ', 'ISO_IR 192')).toEqual(Buffer.from([0xc3, 0x91]));
  });

  it('refuses what does not parse, naming the problem, never a value', () => {
    const name = explicitElement('00100010', 'PN', Buffer.from('SECRETO^X '));
    const cases: [Buffer, RegExp][] = [
      [name.subarray(0, 12), /truncated/],
      [Buffer.concat([name.subarray(0, 4), Buffer.from('p!'), name.subarray(6)]), /no valid VR/],
      [Buffer.from([0xfe, 0xff, 0x00, 0xe0, 0, 0, 0, 0]), /outside a sequence/],
    ];
    for (const [bytes, message] of cases) {
      expect(() => readIdentifier(bytes, true, dictionaryVr)).toThrow(IdentifierError);
      expect(() => readIdentifier(bytes, true, dictionaryVr)).toThrow(message);
      try {
        readIdentifier(bytes, true, dictionaryVr);
      } catch (err) {
        expect((err as Error).message).not.toContain('SECRETO');
      }
    }
  });
});

describe('keys and character sets', () => {
  const element = (tag: string, vr: string, value: Buffer | string) => ({ tag, vr, value: Buffer.isBuffer(value) ? value : Buffer.from(value, 'latin1') });

  it('decodes text in the declared set; answers in ISO_IR 100 only to those who asked in it', () => {
    const latin = findKeys([element('00080005', 'CS', 'ISO_IR 100'), element('00100010', 'PN', Buffer.from([0x4d, 0x55, 0xd1, 0x4f, 0x5a]))]);
    expect(latin).toMatchObject({ answerCharset: 'ISO_IR 100', values: { '00100010': 'MUÑOZ' } });
    const utf = findKeys([element('00080005', 'CS', 'ISO_IR 192'), element('00100010', 'PN', Buffer.from('MUÑOZ', 'utf8'))]);
    expect(utf).toMatchObject({ answerCharset: 'ISO_IR 192', values: { '00100010': 'MUÑOZ' } });
    // Undeclared: valid UTF-8 is UTF-8, anything else Latin-1.
    expect(findKeys([element('00100010', 'PN', Buffer.from('MUÑOZ', 'utf8'))]).values['00100010']).toBe('MUÑOZ');
    expect(findKeys([element('00100010', 'PN', Buffer.from([0x4d, 0xd1]))]).values['00100010']).toBe('MÑ');
    expect(requestCharset(['ISO 2022 IR 100']).answer).toBe('ISO_IR 100');
    expect(requestCharset(['ISO_IR 144']).decode(Buffer.from([0xbf]))).toBe('П');
  });

  it('refuses an unknown character set, code extensions, a wrong VR, a key given twice', () => {
    const cases: [ReturnType<typeof element>[], number, RegExp][] = [
      [[element('00080005', 'CS', 'ISO_IR 999')], 0xc000, /SpecificCharacterSet is not supported/],
      [[element('00080005', 'CS', 'ISO 2022 IR 6\\ISO 2022 IR 87'), element('00100010', 'PN', Buffer.from([0x1b, 0x24, 0x42]))], 0xc000, /ISO 2022/],
      [[element('00100010', 'DA', '20200101')], 0xa900, /PatientName must have VR PN, not DA/],
      [[element('00100020', 'LO', 'A'), element('00100020', 'LO', 'B')], 0xa900, /PatientID is given more than once/],
    ];
    for (const [elements, status, comment] of cases) {
      let failure: unknown;
      try {
        findKeys(elements);
      } catch (err) {
        failure = err;
      }
      expect(failure).toBeInstanceOf(FindFailure);
      expect((failure as FindFailure).status).toBe(status);
      expect((failure as FindFailure).comment).toMatch(comment);
    }
  });

  it('ErrorComment fits an LO of the default repertoire: 64 characters, cut at a word', () => {
    const long = 'StudyDate must be a date YYYYMMDD (or YYYY-MM-DD) or a range of them (a-b, -b, a-), each a real calendar date';
    expect(errorComment(long)).toBe('StudyDate must be a date YYYYMMDD (or YYYY-MM-DD) or a range...');
    expect(errorComment(long).length).toBeLessThanOrEqual(64);
    expect(errorComment('ñ')).toBe('?');
  });
});

describe('the PDU guard', () => {
  const limits = { maxPduBytes: 1024, maxMessageBytes: 4096 };

  function guard(): { g: PduGuard; messages: RawMessage[]; violations: string[] } {
    const messages: RawMessage[] = [];
    const violations: string[] = [];
    return { g: new PduGuard(limits, (m) => messages.push(m), (v) => violations.push(v)), messages, violations };
  }

  it('keeps each message (command and identifier), however the bytes are split', () => {
    const identifier = explicitElement('00100020', 'LO', Buffer.from('12345678-5'));
    const stream = Buffer.concat([pdu(0x01, Buffer.alloc(100)), pdata(1, true, true, findCommand(9)), pdata(1, false, false, identifier.subarray(0, 5)), pdata(1, false, true, identifier.subarray(5))]);
    for (const size of [1, 7, 64, stream.length]) {
      const { g, messages, violations } = guard();
      for (let at = 0; at < stream.length; at += size) g.feed(stream.subarray(at, at + size));
      expect(violations).toEqual([]);
      expect(messages).toEqual([{ commandField: 0x0020, messageId: 9, dataset: identifier, contextId: 1 }]);
    }
  });

  it('refuses a PDU announced past its limit at the header, and a message past its limit over many PDUs', () => {
    const big = guard();
    big.g.feed(Buffer.from([0x04, 0, 0, 0, 0x10, 0]));
    expect(big.violations).toEqual(['a PDU announced 4096 bytes, more than 1024']);
    const many = guard();
    many.g.feed(pdata(1, true, true, findCommand(1)));
    for (let i = 0; i < 10; i++) many.g.feed(pdata(1, false, false, Buffer.alloc(500)));
    expect(many.violations).toEqual(['a DIMSE message of more than 4096 bytes']);
    const lying = guard();
    lying.g.feed(pdu(0x04, Buffer.from([0, 0, 0, 50, 1, 3])));
    expect(lying.violations).toEqual(['a PDV item longer than its PDU']);
  });

  it('hands each message to the request it belongs to, by command and message id', () => {
    const q = new RawMessages(3);
    for (const id of [1, 2, 3, 4]) q.add({ commandField: 0x20, messageId: id, dataset: null, contextId: 1 });
    expect(q.take(0x20, 1)).toBeNull();
    expect(q.take(0x20, 3)?.messageId).toBe(3);
    expect(q.take(0x20, 2)).toBeNull();
    expect(q.take(0x20, 4)?.messageId).toBe(4);
  });
});
