import { describe, expect, it } from 'vitest';
import { pnConditions, textMatch, wildcardLike } from '../../../src/receiver/dicomweb/qido-text.js';
import { familyNameKey } from '../../../src/shared/patient-key.js';
import { escapeLike } from '../../../src/receiver/store/study-match.js';

describe('wildcards', () => {
  it('maps * and ? and escapes LIKE metacharacters', () => {
    expect(wildcardLike('*50%_!x?')).toBe('%50!%!_!!x_');
    expect(wildcardLike('ABC')).toBe('ABC');
    expect(textMatch('ACC-1')).toEqual({ equals: 'ACC-1' });
    expect(textMatch('ACC*')).toEqual({ like: 'ACC%' });
    expect(textMatch('*T%RAX*')).toEqual({ like: '%T!%RAX%' });
  });
});

describe('PatientName (folded family name)', () => {
  it('a family prefix is exactly the JSON API name filter', () => {
    for (const name of ['MUÑOZ', 'pérez', 'O_BRIEN', '50%']) {
      expect(pnConditions(`${name}*`, true)).toEqual({ familyName: { like: `${escapeLike(familyNameKey(name)!)}%` } });
    }
  });

  it.each<[string, object]>([
    ['PÉREZ', { familyName: { equals: 'PEREZ' } }],
    ['  núñez  ', { familyName: { equals: 'NUNEZ' } }],
    ['PÉREZ *', { familyName: { like: 'PEREZ %' } }],
    ['PÉREZ GONZÁLEZ*', { familyName: { like: 'PEREZ GONZALEZ%' } }],
    ['PER**', { familyName: { like: 'PER%' } }],
    ['*ana*', { name: { whole: '%ana%' } }],
    ['*munoz  jose*', { name: { whole: '%munoz_jose%' } }],
    ['*', {}],
    ['***', {}],
    ['', {}],
    ['^', {}],
    ['=ペレス', {}],
    ['PÉREZ=ペレス^ホセ', { familyName: { equals: 'PEREZ' } }],
    ['P?REZ', { familyName: { like: 'P%' }, name: { components: [{ like: 'P_REZ' }] } }],
    ['PÉ*EZ', { familyName: { like: 'PE%' }, name: { components: [{ like: 'PÉ%EZ' }] } }],
    ['*REZ^JOSÉ', { name: { components: [{ like: '%REZ' }, { equals: 'JOSÉ' }] } }],
    ['PÉREZ^JO*', { familyName: { equals: 'PEREZ' }, name: { components: [null, { like: 'JO%' }] } }],
    ['^JOSE', { name: { components: [null, { equals: 'JOSE' }] } }],
    ['^JOSE^^', { name: { components: [null, { equals: 'JOSE' }] } }],
    ['PEREZ^*', { familyName: { equals: 'PEREZ' } }],
    ['*^ANA', { name: { components: [null, { equals: 'ANA' }] } }],
    ['?*', { name: { components: [{ like: '_%' }] } }],
  ])('%j', (value, expected) => {
    expect(pnConditions(value, true)).toEqual(expected);
  });
});

describe('ReferringPhysicianName (components only)', () => {
  it.each<[string, object]>([
    ['SMITH', { name: { components: [{ equals: 'SMITH' }] } }],
    ['SMI*', { name: { components: [{ like: 'SMI%' }] } }],
    ['*ith*', { name: { whole: '%ith%' } }],
    ['SMITH^JOHN', { name: { components: [{ equals: 'SMITH' }, { equals: 'JOHN' }] } }],
    ['*', {}],
  ])('%j', (value, expected) => {
    expect(pnConditions(value, false)).toEqual(expected);
  });
});
