import { describe, expect, it } from 'vitest';
import { decodeText } from '../../../../src/agent/sources/dcm4chee/text-decode.js';

describe('decodeText', () => {
  it('takes valid UTF-8 bytes as UTF-8 (double-encoded sites)', () => {
    expect(decodeText(Buffer.from('MUÑOZ^JOSÉ', 'utf8'))).toBe('MUÑOZ^JOSÉ');
  });

  it('takes latin1 bytes as latin1', () => {
    expect(decodeText(Buffer.from('MUÑOZ^JOSÉ', 'latin1'))).toBe('MUÑOZ^JOSÉ');
  });

  it('maps cp1252-only bytes (curly quotes, euro) to their characters', () => {
    expect(decodeText(Buffer.from([0x93, 0x41, 0x94, 0x20, 0x80]))).toBe('\u201cA\u201d \u20ac');
  });

  it('strips NULs and treats empty or blank values as null', () => {
    expect(decodeText(Buffer.from('AB\0C\0\0'))).toBe('ABC');
    expect(decodeText(Buffer.from(''))).toBeNull();
    expect(decodeText(Buffer.from('   '))).toBeNull();
    expect(decodeText(null)).toBeNull();
  });

  it('keeps the stored value otherwise (no trimming inside a value)', () => {
    expect(decodeText(Buffer.from('PEREZ^JOSE^PEREZ'))).toBe('PEREZ^JOSE^PEREZ');
    expect(decodeText('12.345.678-5')).toBe('12.345.678-5');
  });
});
