import { describe, expect, it } from 'vitest';
import { project } from './support/fault-site.js';
import { PatientDataRegistry, rutCheckDigit, rutForms } from './support/patient-data.js';
import { Prng } from './support/prng.js';
import { compareWithSource } from './support/receiver-content.js';

/** The fault suite's own instruments must be able to fail: a leak is found, a lost record reported. */
describe('fault-suite instruments', () => {
  it('computes RUT check digits like the legacy reference (12.345.678-5, 12.667.869-K, 3.705.779-7)', () => {
    expect([rutCheckDigit(12345678), rutCheckDigit(12667869), rutCheckDigit(3705779)]).toEqual(['5', 'K', '7']);
    expect(rutForms(12345678)).toEqual({ dotted: '12.345.678-5', dashed: '12345678-5', plain: '123456785' });
  });

  it('finds a patient value in any of its forms, and nothing in clean lines', () => {
    const ids = new PatientDataRegistry(new Prng(7));
    const p = ids.identity();
    const [family] = p.name.split('^');
    const iso = `${p.birthdate.slice(0, 4)}-${p.birthdate.slice(4, 6)}-${p.birthdate.slice(6, 8)}`;
    const clean = ['{"level":30,"msg":"sync pass finished","read":12,"time":1760000000000}'];
    expect(ids.findLeaks(clean)).toEqual([]);
    for (const leak of [`{"name":"${family!.toLowerCase()}"}`, `id ${p.patId.toUpperCase()} here`, `born ${iso}`, `raw=${p.birthdate};`]) {
      expect(ids.findLeaks([...clean, leak]), leak).toHaveLength(1);
    }
  });

  it('reports a missing record, a changed field, a live study that should be a tombstone and a duplicate', () => {
    const rec = (iuid: string, extra: Record<string, unknown> = {}) => ({ ...project({ study_iuid: iuid, center: '000', deleted: false }), source_seq: 5, ...extra });
    const expected = new Map([['1.1', project(rec('1.1'))], ['1.2', project(rec('1.2'))], ['1.3', project(rec('1.3'))]]);
    const held = new Map<string, Record<string, unknown>>([['1.1', rec('1.1')], ['1.2', rec('1.2', { study_series: 9 })], ['1.9', rec('1.9')]]);
    const result = compareWithSource(expected, new Set(['1.9']), { records: held, duplicates: ['1.1'] });
    expect(result.differences).toEqual([
      '1.1: appears twice', '1.2: study_series differs', '1.3: missing at the receiver', '1.9: deleted at the source, live at the receiver',
    ]);
    expect(compareWithSource(new Map([['1.1', project(rec('1.1'))]]), new Set(), { records: new Map([['1.1', rec('1.1')]]), duplicates: [] }).differences).toEqual([]);
  });
});
