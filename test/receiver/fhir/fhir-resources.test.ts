import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { baseUrlOf, searchset, searchUrl } from '../../../src/receiver/fhir/bundle.js';
import { capabilityStatement } from '../../../src/receiver/fhir/capability.js';
import { SEARCH_PARAMETERS } from '../../../src/receiver/fhir/fhir-params.js';
import { fhirString, personDisplay, startedOf, subjectOf, toImagingStudy } from '../../../src/receiver/fhir/imaging-study.js';
import { checkFormat } from '../../../src/receiver/fhir/negotiation.js';
import { FhirError, issueCodeOf, operationOutcome } from '../../../src/receiver/fhir/operation-outcome.js';
import type { MatchedStudy } from '../../../src/receiver/store/study-match.js';
import type { StudyRecord } from '../../../src/shared/study-record.js';
import { expectValidFhir, fhirSchemaErrors } from './fhir-validator.js';

function study(extra: Partial<StudyRecord> = {}, center: Partial<MatchedStudy['center']> = {}): MatchedStudy {
  const record = {
    center: 'C1', study_iuid: '1.2.840.10008.1', study_pk: 1, patient_pk: 1, patient_id: '12.345.678-5', patient_id_issuer: null,
    patient_name: 'PÉREZ^JOSÉ', patient_birthdate: '1970-01-01', patient_sex: 'M', study_datetime: '2021-03-01T08:15:00',
    study_description: 'TÓRAX AP', study_modality: 'CT\\SR', modalities: ['CT', 'SR'], study_series: 3, study_instances: 120,
    accession_no: 'A123', study_id: 'S1', referring_physician: 'SOTO^ANA^MARÍA', source_seq: 1, deleted: false, ...extra,
  } as StudyRecord;
  return { id: 42, record, center: { code: 'C1', name: 'Hospital Regional', dicomwebUrl: null, retrieveAet: null, ...center } };
}

describe('ImagingStudy mapping', () => {
  it('maps every element as the standard expects, and passes the R4 schema', () => {
    const r = toImagingStudy(study());
    expect(r).toEqual({
      resourceType: 'ImagingStudy',
      id: '42',
      identifier: [
        { system: 'urn:dicom:uid', value: 'urn:oid:1.2.840.10008.1' },
        { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'ACSN' }] }, system: 'urn:pacs-indexer:center:C1:accession', value: 'A123' },
      ],
      status: 'available',
      modality: [{ system: 'http://dicom.nema.org/resources/ontology/DCM', code: 'CT' }, { system: 'http://dicom.nema.org/resources/ontology/DCM', code: 'SR' }],
      subject: { identifier: { system: 'http://regcivil.cl/Validacion/RUN', value: '12345678-5' } },
      started: '2021-03-01',
      numberOfSeries: 3,
      numberOfInstances: 120,
      referrer: { display: 'SOTO ANA MARÍA' },
      location: { identifier: { system: 'urn:pacs-indexer:center', value: 'C1' }, display: 'Hospital Regional' },
      description: 'TÓRAX AP',
    });
    expectValidFhir(r);
    // never the patient's name, birth date or sex
    expect(JSON.stringify(r)).not.toMatch(/PÉREZ|JOSÉ|1970|"M"/);
  });

  it('a registered DICOMweb base becomes a contained dicom-wado-rs Endpoint, referenced', () => {
    const r = toImagingStudy(study({}, { dicomwebUrl: 'https://pacs.hospital.cl/dicom-web' }));
    expect(r.contained).toEqual([{
      resourceType: 'Endpoint', id: 'wado', status: 'active',
      connectionType: { system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type', code: 'dicom-wado-rs' },
      payloadType: [{ text: 'DICOM' }], address: 'https://pacs.hospital.cl/dicom-web',
    }]);
    expect(r.endpoint).toEqual([{ reference: '#wado' }]);
    expectValidFhir(r);
    expect(toImagingStudy(study()).endpoint).toBeUndefined();
    expect(toImagingStudy(study()).contained).toBeUndefined();
  });

  it('omits what is unknown: undated, no modalities, no accession, no referrer, no description, no centre name', () => {
    const r = toImagingStudy(study(
      { study_datetime: null, modalities: [], accession_no: '  ', referring_physician: null, study_description: '\u00a0' },
      { name: null },
    ));
    for (const k of ['started', 'modality', 'referrer', 'description']) expect(r[k], k).toBeUndefined();
    expect(r.identifier).toHaveLength(1);
    expect(r.location).toEqual({ identifier: { system: 'urn:pacs-indexer:center', value: 'C1' }, display: 'C1' });
    expectValidFhir(r);
  });

  it('subject: a valid RUT in any spelling is national; other ids are the centre\'s; none is unidentified', () => {
    for (const id of ['12.345.678-5', '123456785', ' 12345678-5 ']) {
      expect(subjectOf(id, 'C1')).toEqual({ identifier: { system: 'http://regcivil.cl/Validacion/RUN', value: '12345678-5' } });
    }
    expect(subjectOf('12667869-k', 'C1').identifier.value).toBe('12667869-K');
    expect(subjectOf(' abc-1 ', 'C2')).toEqual({ identifier: { system: 'urn:pacs-indexer:center:C2:patient-id', value: 'abc-1' } });
    expect(subjectOf('12345678-9', 'C2')).toEqual({ identifier: { system: 'urn:pacs-indexer:center:C2:patient-id', value: '12345678-9' } });
    expect(subjectOf(null, 'C1')).toEqual({ display: 'unidentified patient' });
    expect(subjectOf('   ', 'C1')).toEqual({ display: 'unidentified patient' });
    expectValidFhir(toImagingStudy(study({ patient_id: null })));
  });

  it('started is a date only (a FHIR time would need a zone DICOM does not give)', () => {
    expect(startedOf('2021-03-01T23:59:59')).toBe('2021-03-01');
    expect(startedOf(null)).toBeUndefined();
    expect(startedOf('garbage')).toBeUndefined();
  });

  it('text helpers: FHIR strings and PN display', () => {
    expect(fhirString(' a\u00a0b\fc ')).toBe('a b c');
    expect(fhirString('')).toBeUndefined();
    expect(personDisplay('SOTO^ANA')).toBe('SOTO ANA');
    expect(personDisplay('SOTO^^^DR=ソト')).toBe('SOTO DR');
    expect(personDisplay('^^^')).toBeUndefined();
  });

  it('the validator catches a broken resource (so these checks can fail)', () => {
    const good = toImagingStudy(study());
    expect(fhirSchemaErrors({ ...good, started: '2021-03-01T08:15:00' }).length).toBeGreaterThan(0);
    expect(fhirSchemaErrors({ ...good, status: 'done' }).length).toBeGreaterThan(0);
    expect(fhirSchemaErrors({ ...good, patientName: 'X' }).length).toBeGreaterThan(0);
    expect(fhirSchemaErrors({ ...good, description: '' }).length).toBeGreaterThan(0);
    const c = capabilityStatement('http://h:1', '1', '2025-01-01');
    expect(fhirSchemaErrors({ ...c, fhirVersion: '4.0.2' }).length).toBeGreaterThan(0);
    expect(fhirSchemaErrors({ ...c, kind: 'server' }).length).toBeGreaterThan(0);
    expect(fhirSchemaErrors({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'gone', diagnostics: 'x' }] }).length).toBeGreaterThan(0);
    const bundle = searchset({ base: 'http://x', used: [], pageSize: 1, cursor: null, nextCursor: null, total: 1, resources: [{ ...good, started: '2021-03-01T08:15' }] });
    expect(fhirSchemaErrors(bundle).length).toBeGreaterThan(0);
  });
});

describe('searchset Bundle', () => {
  const base = 'https://index.example.org';
  const resources = [toImagingStudy(study()), toImagingStudy({ ...study(), id: 43 })];

  it('self lists the parameters used (and the page\'s cursor); next carries the filters, _count and the next cursor', () => {
    const b = searchset({ base, used: [['patient:identifier', 'http://regcivil.cl/Validacion/RUN|12.345.678-5'], ['_count', '2']], pageSize: 2, cursor: 'CUR1', nextCursor: 'CUR2', total: 5, resources });
    expect(b.link).toEqual([
      { relation: 'self', url: 'https://index.example.org/fhir/ImagingStudy?patient:identifier=http://regcivil.cl/Validacion/RUN%7C12.345.678-5&_count=2&_cursor=CUR1' },
      { relation: 'next', url: 'https://index.example.org/fhir/ImagingStudy?patient:identifier=http://regcivil.cl/Validacion/RUN%7C12.345.678-5&_count=2&_cursor=CUR2' },
    ]);
    expect(b.total).toBe(5);
    expect(b.entry.map((e: { fullUrl: string }) => e.fullUrl)).toEqual([`${base}/fhir/ImagingStudy/42`, `${base}/fhir/ImagingStudy/43`]);
    expect(b.entry[0].search).toEqual({ mode: 'match' });
    expectValidFhir(b);
  });

  it('no entries, no total, no next: still valid', () => {
    const b = searchset({ base, used: [], pageSize: 50, cursor: null, nextCursor: null, total: null, resources: [] });
    expect(b).toEqual({ resourceType: 'Bundle', type: 'searchset', link: [{ relation: 'self', url: `${base}/fhir/ImagingStudy` }] });
    expectValidFhir(b);
  });

  it('encodes values so they come back unchanged', () => {
    const url = searchUrl(base, [['identifier', 'a&b=c|d,e f+g%'], ['x', 'ñ']]);
    const parsed = new URL(url);
    expect(parsed.searchParams.get('identifier')).toBe('a&b=c|d,e f+g%');
    expect(parsed.searchParams.get('x')).toBe('ñ');
  });

  it('base URL: the public URL, else protocol and a well-formed Host', () => {
    expect(baseUrlOf('https://pub.example/pacs', 'http', 'evil')).toBe('https://pub.example/pacs');
    expect(baseUrlOf(null, 'http', '127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    expect(baseUrlOf(null, 'https', 'index.example.org')).toBe('https://index.example.org');
    expect(baseUrlOf(null, 'http', '[::1]:80')).toBe('http://[::1]:80');
    for (const bad of [undefined, '', 'a/b', 'x y', 'h:p', 'evil.com/@x', 'a\r\nb']) expect(baseUrlOf(null, 'http', bad), String(bad)).toBeNull();
  });
});

describe('CapabilityStatement', () => {
  it('read-only ImagingStudy, R4, JSON, every search parameter with its type; valid', () => {
    const c = capabilityStatement('http://h:1', '1.2.3', '2025-01-01T00:00:00.000Z');
    expect(c).toMatchObject({ resourceType: 'CapabilityStatement', status: 'active', kind: 'instance', fhirVersion: '4.0.1', format: ['json'] });
    const rest = c.rest[0];
    expect(rest.mode).toBe('server');
    expect(rest.security.description).toMatch(/Bearer/);
    expect(rest.security.description).toMatch(/Basic/);
    expect(rest.resource).toHaveLength(1);
    expect(rest.resource[0].type).toBe('ImagingStudy');
    expect(rest.resource[0].interaction.map((i: { code: string }) => i.code)).toEqual(['read', 'search-type']);
    expect(rest.resource[0].searchParam.map((p: { name: string }) => p.name)).toEqual(['identifier', 'patient', 'subject', 'started', 'modality', 'center']);
    for (const p of rest.resource[0].searchParam) {
      expect(p.type).toBe(SEARCH_PARAMETERS.find((d) => d.name === p.name)!.type);
      expect(p.documentation.length).toBeGreaterThan(20);
    }
    expectValidFhir(c);
  });

  it('docs/fhir.md shows it as served, and documents every search parameter', () => {
    const doc = readFileSync(new URL('../../../docs/fhir.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('## Conformance statement'));
    const shown = JSON.parse(section.slice(section.indexOf('```json') + 7, section.indexOf('```', section.indexOf('```json') + 7))) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(shown).toEqual(capabilityStatement('https://index.example.org', shown.software.version, shown.date));
    for (const p of SEARCH_PARAMETERS) expect(doc).toContain(`| \`${p.name}`);
  });
});

describe('OperationOutcome and negotiation', () => {
  it('issue codes by status, or as the error says', () => {
    const cases: [number, string][] = [[400, 'invalid'], [401, 'login'], [403, 'forbidden'], [404, 'not-found'], [405, 'not-supported'], [406, 'not-supported'],
      [410, 'deleted'], [413, 'too-costly'], [429, 'transient'], [503, 'transient'], [500, 'exception']];
    for (const [status, code] of cases) {
      expect(issueCodeOf(new Error('x'), status), String(status)).toBe(code);
      expectValidFhir(operationOutcome(issueCodeOf(new Error('x'), status), 'why', status));
    }
    expect(issueCodeOf(new FhirError(400, 'not-supported', 'x'), 400)).toBe('not-supported');
    expect(operationOutcome('invalid', 'why', 400)).toEqual({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid', diagnostics: 'why' }] });
  });

  it('JSON is served for fhir+json, json, */*, application/* or no Accept; _format overrides Accept', () => {
    for (const accept of [undefined, '', 'application/fhir+json', 'application/json', '*/*', 'application/*', 'text/html,application/xhtml+xml,*/*;q=0.8', 'application/fhir+xml;q=1, application/fhir+json;q=0.5']) {
      expect(() => checkFormat(undefined, accept), String(accept)).not.toThrow();
    }
    for (const format of ['json', 'application/json', 'application/fhir+json', 'application/fhir json', 'APPLICATION/FHIR+JSON; charset=utf-8']) {
      expect(() => checkFormat(format, 'application/fhir+xml'), format).not.toThrow();
    }
  });

  it('406 not-supported for xml (or anything else)', () => {
    const refused: [string | string[] | undefined, string | undefined][] = [
      [undefined, 'application/fhir+xml'], [undefined, 'application/xml, text/xml'], [undefined, 'application/fhir+json;q=0'], [undefined, 'text/plain'],
      ['xml', undefined], ['application/fhir+xml', 'application/fhir+json'], ['text/xml', undefined], ['html', undefined],
    ];
    for (const [format, accept] of refused) {
      try {
        checkFormat(format, accept);
        throw new Error(`accepted ${String(format)} / ${String(accept)}`);
      } catch (err) {
        expect(err).toBeInstanceOf(FhirError);
        expect((err as FhirError).status).toBe(406);
        expect((err as FhirError).issue).toBe('not-supported');
      }
    }
  });

  it('_format given twice is a 400 invalid (a repeated parameter), not a 406', () => {
    expect(() => checkFormat(['json', 'json'], undefined)).toThrow(expect.objectContaining({ status: 400, issue: 'invalid' }));
  });
});
