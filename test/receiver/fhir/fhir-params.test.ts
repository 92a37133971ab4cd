import { describe, expect, it } from 'vitest';
import { isStrict, parseSearch, type Query, type SearchOptions } from '../../../src/receiver/fhir/fhir-params.js';
import { FhirError } from '../../../src/receiver/fhir/operation-outcome.js';
import type { Keyset } from '../../../src/receiver/store/study-match.js';

const KEYSET: Keyset = { sortAt: '2021-03-01 08:00:00', id: 7 };
const options = (strict = false): SearchOptions => ({
  strict, defaultCount: 50, maxCount: 1000,
  decodeCursor: (c) => {
    if (c === 'good') return KEYSET;
    throw new FhirError(400, 'invalid', 'search parameter "_cursor" is not a valid paging cursor');
  },
});
const parse = (q: Query, strict = false) => parseSearch(q, options(strict));

function refusal(q: Query, strict = false): FhirError {
  try {
    parse(q, strict);
  } catch (err) {
    expect(err).toBeInstanceOf(FhirError);
    return err as FhirError;
  }
  throw new Error(`expected a refusal of ${JSON.stringify(q)}`);
}

const RUN = 'http://regcivil.cl/Validacion/RUN';
const ACSN = 'http://terminology.hl7.org/CodeSystem/v2-0203|ACSN';

describe('identifier', () => {
  it('urn:dicom:uid with or without urn:oid:, and a bare UID', () => {
    expect(parse({ identifier: 'urn:dicom:uid|urn:oid:1.2.840.1' }).match).toEqual({ includeDeleted: false, studyIuids: ['1.2.840.1'] });
    expect(parse({ identifier: 'urn:dicom:uid|1.2.840.1' }).match.studyIuids).toEqual(['1.2.840.1']);
    expect(parse({ identifier: '1.2.840.1' }).match.studyIuids).toEqual(['1.2.840.1']);
    expect(parse({ identifier: 'urn:oid:1.2.840.1' }).match.studyIuids).toEqual(['1.2.840.1']);
    expect(parse({ identifier: '|1.2.840.1' }).match.studyIuids).toEqual(['1.2.840.1']);
  });

  it('comma is OR of UIDs, repetition AND (intersection)', () => {
    expect(parse({ identifier: 'urn:dicom:uid|1.2.1,urn:dicom:uid|1.2.2,1.2.3' }).match.studyIuids).toEqual(['1.2.1', '1.2.2', '1.2.3']);
    expect(parse({ identifier: ['1.2.1,1.2.2', '1.2.2,1.2.3'] }).match.studyIuids).toEqual(['1.2.2']);
    const disjoint = parse({ identifier: ['1.2.1', '1.2.2'] });
    expect(disjoint.impossible).toBe(true);
  });

  it('accession numbers: of-type ACSN (any centre), the per-centre system, or a bare non-UID value', () => {
    expect(parse({ 'identifier:of-type': `${ACSN}|A123` }).match).toEqual({ includeDeleted: false, accessionNo: { equals: 'A123' } });
    expect(parse({ identifier: 'urn:pacs-indexer:center:C1:accession|A123' }).match).toEqual({ includeDeleted: false, accessionNo: { equals: 'A123' }, centers: ['C1'] });
    expect(parse({ identifier: 'A123' }).match).toEqual({ includeDeleted: false, accessionNo: { equals: 'A123' } });
    expect(parse({ identifier: '2021001' }).match.accessionNo).toEqual({ equals: '2021001' });
    // the same accession at two centres is an OR the store can say
    expect(parse({ identifier: 'urn:pacs-indexer:center:C1:accession|A1,urn:pacs-indexer:center:C2:accession|A1' }).match.centers).toEqual(['C1', 'C2']);
    expect(parse({ identifier: 'urn:pacs-indexer:center:C1:accession|A1,A1' }).match.centers).toBeUndefined();
  });

  it('no stored identifier has another system or type: nothing matches', () => {
    for (const identifier of ['http://example.org|1.2.3', 'urn:pacs-indexer:center:C1:patient-id|X', 'urn:pacs-indexer:center:bad code:accession|A1']) {
      expect(parse({ identifier }).impossible, identifier).toBe(true);
    }
    expect(parse({ 'identifier:of-type': 'http://terminology.hl7.org/CodeSystem/v2-0203|MR|A1' }).impossible).toBe(true);
    expect(parse({ identifier: 'http://example.org|x,1.2.3' }).match.studyIuids).toEqual(['1.2.3']);
  });

  it('refuses what a StudyMatch cannot say, or can never match', () => {
    expect(refusal({ identifier: '1.2.3,A123' }).issue).toBe('not-supported');
    expect(refusal({ identifier: 'A1,A2' }).issue).toBe('not-supported');
    expect(refusal({ identifier: 'urn:dicom:uid|1.2.ü' }).issue).toBe('invalid');
    expect(refusal({ identifier: `urn:pacs-indexer:center:C1:accession|${'A'.repeat(65)}` }).issue).toBe('invalid');
    expect(refusal({ identifier: '' }).issue).toBe('invalid');
    expect(refusal({ identifier: Array.from({ length: 201 }, (_, i) => `1.2.${i}`).join(',') }).message).toContain('alternatives');
  });

  it('an accession AND-ed with a different one matches nothing; the same in another case is the same (collation)', () => {
    expect(parse({ identifier: ['A1', 'A2'] }).impossible).toBe(true);
    const same = parse({ identifier: ['a1', 'A1'] });
    expect(same.impossible).toBe(false);
    expect(same.match.accessionNo).toEqual({ equals: 'a1' });
    // an accession at C1 and a patient at C2: no study is at both
    expect(parse({ identifier: 'urn:pacs-indexer:center:C1:accession|A1', 'patient:identifier': 'urn:pacs-indexer:center:C2:patient-id|X' }).impossible).toBe(true);
  });
});

describe('patient / subject by identifier', () => {
  const forms = ['patient:identifier', 'patient.identifier', 'patient:Patient.identifier', 'subject:identifier', 'subject.identifier', 'subject:Patient.identifier'];

  it('every spelling of a RUT, under the RUN system, |value or value, is one key', () => {
    for (const name of forms) {
      for (const v of [`${RUN}|12.345.678-5`, `${RUN}|123456785`, '|12345678-5', '12.345.678-5', ' 123456785 ']) {
        const s = parse({ [name]: v });
        expect(s.match, `${name}=${v}`).toEqual({ includeDeleted: false, patientKey: '12345678-5' });
        expect(s.impossible).toBe(false);
      }
    }
  });

  it('a centre system restricts to that centre and names the id as stored (case-sensitive); a bare id is any spelling', () => {
    expect(parse({ 'patient:identifier': 'urn:pacs-indexer:center:C1:patient-id|abc-1' }).match)
      .toEqual({ includeDeleted: false, patientKey: 'ABC-1', patientId: { equals: 'abc-1' }, centers: ['C1'] });
    expect(parse({ 'patient:identifier': 'urn:pacs-indexer:center:C1:patient-id|12.345.678-5' }).match)
      .toEqual({ includeDeleted: false, patientKey: '12345678-5', centers: ['C1'] });
    expect(parse({ 'patient:identifier': 'abc-1' }).match).toEqual({ includeDeleted: false, patientKey: 'ABC-1' });
  });

  it('an invalid RUT under the RUN system, or an unknown system, matches nothing', () => {
    expect(parse({ 'patient:identifier': `${RUN}|12345678-9` }).impossible).toBe(true);
    expect(parse({ 'patient:identifier': 'urn:oid:2.16.152|12345678-5' }).impossible).toBe(true);
  });

  it('AND of two patients matches nothing; OR of two different patients is refused', () => {
    expect(parse({ 'patient:identifier': '12345678-5', 'subject:identifier': '12667869-K' }).impossible).toBe(true);
    expect(parse({ 'patient:identifier': '12345678-5', 'subject:identifier': '123456785' }).impossible).toBe(false);
    expect(refusal({ 'patient:identifier': '12345678-5,12667869-K' }).issue).toBe('not-supported');
    expect(parse({ 'patient:identifier': '12.345.678-5,123456785' }).match.patientKey).toBe('12345678-5');
  });

  it('a plain reference is refused, whatever the handling, pointing at :identifier', () => {
    for (const name of ['patient', 'subject', 'patient:Patient', 'subject:Patient']) {
      for (const strict of [false, true]) {
        const e = refusal({ [name]: 'Patient/123' }, strict);
        expect(e.status).toBe(400);
        expect(e.issue).toBe('not-supported');
        expect(e.message).toContain(':identifier=');
        expect(e.message).not.toContain('123');
      }
    }
  });
});

describe('started, modality, center', () => {
  it('AND-ed started bounds intersect', () => {
    expect(parse({ started: ['ge2021-01-01', 'lt2022'] }).match).toEqual({ includeDeleted: false, from: '2021-01-01', to: '2021-12-31' });
    expect(parse({ started: ['ge2022', 'le2021'] }).impossible).toBe(true);
    expect(refusal({ started: '2021,2022' }).issue).toBe('not-supported');
    expect(refusal({ started: 'ne2021' }).issue).toBe('not-supported');
    expect(refusal({ started: '2021-99-99' }).issue).toBe('invalid');
  });

  it('modality codes with or without the DCM system, upper-cased, comma OR', () => {
    expect(parse({ modality: 'CT' }).match.modalities).toEqual(['CT']);
    expect(parse({ modality: 'http://dicom.nema.org/resources/ontology/DCM|mr,sr' }).match.modalities).toEqual(['MR', 'SR']);
    expect(parse({ modality: 'http://example.org|CT' }).impossible).toBe(true);
    expect(parse({ modality: ['CT,MR', 'MR,CT'] }).match.modalities).toEqual(['CT', 'MR']);
    expect(refusal({ modality: ['CT', 'SR'] }).issue).toBe('not-supported');
    expect(refusal({ modality: 'ÑM' }).issue).toBe('invalid');
    expect(refusal({ modality: 'X'.repeat(17) }).issue).toBe('invalid');
  });

  it('center, with or without its system; an impossible code matches nothing', () => {
    expect(parse({ center: 'C1,urn:pacs-indexer:center|C2' }).match.centers).toEqual(['C1', 'C2']);
    expect(parse({ center: ['C1,C2', 'C2'] }).match.centers).toEqual(['C2']);
    expect(parse({ center: 'no such code!' }).impossible).toBe(true);
    expect(parse({ center: 'C1', identifier: 'urn:pacs-indexer:center:C2:accession|A' }).impossible).toBe(true);
  });
});

describe('result parameters', () => {
  it('_count: digits, capped, 0 allowed, default otherwise', () => {
    expect(parse({}).count).toBe(50);
    expect(parse({ _count: '10' }).count).toBe(10);
    expect(parse({ _count: '0' }).count).toBe(0);
    expect(parse({ _count: '007' }).count).toBe(7);
    expect(parse({ _count: '5000' }).count).toBe(1000);
    expect(parse({ _count: '9'.repeat(400) }).count).toBe(1000);
    expect(parse({ _count: '5000' }).used).toEqual([['_count', '1000']]);
    for (const v of ['1e3', '-1', '+5', ' 5', '5.0', '0x10', '', 'ten']) expect(refusal({ _count: v }).message, v).toContain('"_count"');
  });

  it('_total, _summary, _sort', () => {
    expect(parse({}).total).toBe(true);
    expect(parse({ _total: 'none' }).total).toBe(false);
    expect(parse({ _total: 'accurate' }).total).toBe(true);
    expect(parse({ _total: 'estimate' }).total).toBe(true);
    expect(refusal({ _total: 'all' }).issue).toBe('invalid');
    expect(parse({ _summary: 'count' }).summaryCount).toBe(true);
    expect(parse({ _summary: 'false' }).summaryCount).toBe(false);
    expect(parse({ _summary: 'true' }).used).toEqual([]);
    expect(refusal({ _summary: 'true' }, true).issue).toBe('not-supported');
    expect(refusal({ _summary: 'maybe' }).issue).toBe('invalid');
    expect(parse({ _sort: '-started' }).used).toEqual([['_sort', '-started']]);
    expect(parse({ _sort: 'started' }).used).toEqual([]);
    expect(refusal({ _sort: 'started' }, true).message).toContain('_sort=-started');
    expect(refusal({ _sort: '-started,_id' }, true).issue).toBe('not-supported');
  });

  it('_cursor is decoded and kept out of the parameters used (the links add it)', () => {
    const s = parse({ _cursor: 'good', modality: 'CT' });
    expect(s.after).toEqual(KEYSET);
    expect(s.used).toEqual([['modality', 'CT']]);
    expect(refusal({ _cursor: 'forged' }).message).toContain('"_cursor"');
  });

  it('a result parameter given twice is refused', () => {
    for (const name of ['_count', '_total', '_summary', '_sort', '_cursor', '_format']) {
      expect(refusal({ [name]: ['1', '1'] }).message).toContain(`"${name}" must be given once`);
    }
  });
});

describe('unknown parameters and modifiers: lenient ignores, strict refuses', () => {
  const unknown: Query[] = [{ _elements: 'id' }, { _id: '1' }, { foo: 'bar' }, { _lastUpdated: 'ge2021' }];
  const widening: Query[] = [
    { 'identifier:missing': 'true' }, { 'modality:not': 'CT' }, { 'patient.name': 'perez' }, { 'started:missing': 'true' },
    { 'patient:missing': 'true' }, { 'patient:Identifier': '1-9' }, { 'Patient.identifier': '1-9' },
  ];

  it('an unsupported modifier or chain, or anything naming a patient or identifier, is refused even when lenient', () => {
    for (const q of widening) expect(refusal(q, false).issue, JSON.stringify(q)).toBe('not-supported');
  });

  it('lenient (the default): ignored, and not among the parameters used', () => {
    for (const q of unknown) {
      const s = parse({ ...q, modality: 'CT' });
      expect(s.used, JSON.stringify(q)).toEqual([['modality', 'CT']]);
      expect(s.match).toEqual({ includeDeleted: false, modalities: ['CT'] });
    }
  });

  it('strict: 400 not-supported naming the parameter when its name looks like one', () => {
    for (const q of unknown) {
      const name = Object.keys(q)[0]!;
      const e = refusal(q, true);
      expect(e.issue).toBe('not-supported');
      expect(e.message).toContain(`"${name}"`);
    }
    for (const name of ['12345678-5', 'PÉREZ', 'a b', 'x'.repeat(80)]) {
      const e = refusal({ [name]: 'v' }, true);
      expect(e.message).toContain('its name is not shown');
      expect(e.message).not.toContain(name);
    }
  });

  it('the parameters used keep their order and values', () => {
    const s = parse({ 'patient:identifier': '12.345.678-5', started: ['ge2021', 'le2022'], _count: '5', _format: 'json' });
    expect(s.used).toEqual([['patient:identifier', '12.345.678-5'], ['started', 'ge2021'], ['started', 'le2022'], ['_count', '5'], ['_format', 'json']]);
  });
});

describe('Prefer', () => {
  it('handling=strict, alone or among other preferences', () => {
    expect(isStrict(undefined)).toBe(false);
    expect(isStrict('handling=lenient')).toBe(false);
    expect(isStrict('handling=strict')).toBe(true);
    expect(isStrict('return=minimal, handling=strict')).toBe(true);
    expect(isStrict('HANDLING = STRICT')).toBe(true);
    expect(isStrict(['return=minimal', 'handling=strict'])).toBe(true);
    expect(isStrict('handling=stricter')).toBe(false);
  });
});
