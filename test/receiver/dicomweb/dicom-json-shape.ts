import { expect } from 'vitest';
import type { DicomJson } from './qido-fixtures.js';

/** The always-returned study attributes (PS3.18 Table 10.6.3-3) plus the index's own, with their VRs. */
export const ALWAYS: Record<string, string> = {
  '00080005': 'CS', '00080020': 'DA', '00080030': 'TM', '00080050': 'SH', '00080061': 'CS', '00080080': 'LO', '00080090': 'PN',
  '00090010': 'LO', '00091001': 'LO', '00100010': 'PN', '00100020': 'LO', '00100030': 'DA', '00100040': 'CS', '0020000D': 'UI',
  '00200010': 'SH', '00201206': 'IS', '00201208': 'IS',
};
const OPTIONAL: Record<string, string> = { '00080054': 'AE', '00081030': 'LO', '00081190': 'UR', '00100021': 'LO' };

const VALUE_SHAPE: Record<string, (v: unknown) => boolean> = {
  DA: (v) => typeof v === 'string' && /^\d{8}$/.test(v),
  TM: (v) => typeof v === 'string' && /^\d{6}$/.test(v),
  CS: (v) => typeof v === 'string' && /^[A-Z0-9 _]{1,16}$/.test(v),
  AE: (v) => typeof v === 'string' && v.length <= 16 && v.trim() === v && v !== '',
  SH: (v) => typeof v === 'string' && v !== '' && v.trim() === v,
  LO: (v) => typeof v === 'string' && v !== '' && v.trim() === v,
  UI: (v) => typeof v === 'string' && /^[0-9]+(\.[0-9]+)*$/.test(v) && v.length <= 64,
  UR: (v) => typeof v === 'string' && /^https?:\/\/\S+$/.test(v),
  IS: (v) => typeof v === 'number' && Number.isInteger(v),
  PN: (v) => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length > 0
    && Object.entries(v).every(([k, x]) => ['Alphabetic', 'Ideographic', 'Phonetic'].includes(k) && typeof x === 'string' && x !== ''),
};

/** Asserts one study object is well-formed DICOM JSON as this index answers it. */
export function expectDicomJsonStudy(s: DicomJson): void {
  const keys = Object.keys(s);
  expect(keys).toEqual([...keys].sort((a, b) => parseInt(a, 16) - parseInt(b, 16)));
  for (const [tag, vr] of Object.entries(ALWAYS)) expect(s[tag]?.vr, tag).toBe(vr);
  for (const [tag, attr] of Object.entries(s)) {
    expect(tag).toMatch(/^[0-9A-F]{8}$/);
    expect(ALWAYS[tag] ?? OPTIONAL[tag], tag).toBe(attr.vr);
    expect(Object.keys(attr).filter((k) => k !== 'vr' && k !== 'Value'), tag).toEqual([]);
    if ('Value' in attr) {
      expect(Array.isArray(attr.Value) && attr.Value.length > 0, `${tag} has a non-empty Value array`).toBe(true);
      for (const v of attr.Value!) expect(VALUE_SHAPE[attr.vr]!(v), `${tag} ${attr.vr} ${JSON.stringify(v)}`).toBe(true);
      if (attr.vr !== 'CS') expect(attr.Value, `${tag} is single-valued`).toHaveLength(1);
    }
  }
  expect(s['00080005']!.Value).toEqual(['ISO_IR 192']);
  expect(s['00090010']!.Value).toEqual(['PACS-INDEXER']);
}
