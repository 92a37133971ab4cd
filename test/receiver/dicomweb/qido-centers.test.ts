import { describe, expect, it } from 'vitest';
import { centersOf } from '../../../src/receiver/dicomweb/qido-centers.js';

const DIRECTORY = [
  { code: '001', name: 'Hospital Regional de Concepción', dicomwebUrl: null, retrieveAet: null },
  { code: '002', name: 'Clínica Alemana', dicomwebUrl: 'https://pacs.example/dicom-web', retrieveAet: 'ALEMANA' },
  { code: 'X.3', name: null, dicomwebUrl: null, retrieveAet: null },
];

describe('centre keys', () => {
  it.each<[Parameters<typeof centersOf>[0], string[]]>([
    [{ institution: 'Clínica Alemana' }, ['002']],
    [{ institution: 'clinica alemana' }, ['002']],
    [{ institution: '*concepcion*' }, ['001']],
    [{ institution: 'Hospital*' }, ['001']],
    [{ institution: '00?' }, ['001', '002']],
    [{ institution: '001' }, ['001']],
    [{ institution: 'X.3' }, ['X.3']],
    [{ institution: 'X?3' }, ['X.3']],
    [{ institution: 'X*' }, ['X.3']],
    [{ institution: '.*' }, []],
    [{ institution: 'Hospital' }, []],
    [{ codes: ['002', '999'] }, ['002']],
    [{ institution: '00*', codes: ['002', 'X.3'] }, ['002']],
    [{ institution: 'nobody' }, []],
  ])('%j', (filter, codes) => {
    expect(centersOf(filter, DIRECTORY)).toEqual(codes);
  });
});
