import { describe, expect, it } from 'vitest';
import { familyNameKey, foldText, parseRut, patientKey, rutCheckDigit } from '../../src/shared/patient-key.js';

describe('RUT check digit (módulo 11)', () => {
  it.each([['12345678', '5'], ['12667869', 'K'], ['3705779', '7'], ['11111111', '1'], ['6', 'K'], ['19', '1']])('%s → %s', (body, dv) => {
    expect(rutCheckDigit(body)).toBe(dv);
  });
  it('r = 11 gives 0', () => {
    const body = Array.from({ length: 200 }, (_, i) => String(i + 1)).find((b) => rutCheckDigit(b) === '0');
    expect(body).toBeDefined();
    let sum = 0;
    [...body!].reverse().forEach((d, i) => (sum += Number(d) * [2, 3, 4, 5, 6, 7][i % 6]!));
    expect(sum % 11).toBe(0);
  });
});

describe('patientKey', () => {
  it('maps every RUT form to one key', () => {
    for (const form of ['12.345.678-5', '12345678-5', '123456785', ' 12.345.678-5 ', '012345678-5', '12 345 678-5']) {
      expect(patientKey(form), form).toBe('12345678-5');
    }
    for (const form of ['12.667.869-k', '12.667.869-K', '12667869k', '12667869-K']) expect(patientKey(form), form).toBe('12667869-K');
    expect(patientKey('3.705.779-7')).toBe('3705779-7');
  });
  it('keeps non-RUTs as typed, trimmed and upper-cased', () => {
    expect(patientKey('12.345.678-4')).toBe('12.345.678-4');
    expect(patientKey(' abc-123 ')).toBe('ABC-123');
    expect(patientKey('1234567890123')).toBe('1234567890123');
    expect(patientKey('12.34.5678-5')).toBe('12.34.5678-5');
  });
  it('blank or missing → null', () => {
    expect(patientKey(null)).toBeNull();
    expect(patientKey(undefined)).toBeNull();
    expect(patientKey('  ')).toBeNull();
  });
  it('parseRut rejects a zero body and wrong digits', () => {
    expect(parseRut('0-0')).toBeNull();
    expect(parseRut('12345678-K')).toBeNull();
    expect(parseRut('K')).toBeNull();
  });
});

describe('name folding', () => {
  it('folds case, accents and blanks', () => {
    expect(foldText('  Pérez   núñez ')).toBe('PEREZ NUNEZ');
  });
  it('takes the family name of a DICOM PN', () => {
    expect(familyNameKey('PÉREZ GONZÁLEZ^JOSÉ^LUIS')).toBe('PEREZ GONZALEZ');
    expect(familyNameKey('Yamada^Tarou=山田^太郎')).toBe('YAMADA');
    expect(familyNameKey('^JOSE')).toBeNull();
    expect(familyNameKey(null)).toBeNull();
  });
});
