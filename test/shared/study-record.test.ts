import { describe, expect, it } from 'vitest';
import { toLegacyRecord } from '../../src/agent/delivery/legacy-client.js';
import { tombstoneRecord } from '../../src/agent/record/tombstone-record.js';
import { contentHash, HASHED_FIELDS } from '../../src/shared/content-hash.js';
import { COLUMN_CHARS, FREE_TEXT_FIELDS, IDENTIFIER_FIELDS } from '../../src/shared/record-limits.js';
import {
  blankStudyRecord, DECLARED_FIELDS, STORED_FIELDS, STUDY_RECORD_FIELDS, studyRecordSchema, type StudyRecord,
} from '../../src/shared/study-record.js';

/**
 * A record as an agent sent it before the record had one declaration; its hash was computed then.
 * A field declared since is blank in it (a new field is not hashed: see FieldSpec.hash).
 */
const BEFORE: StudyRecord = {
  ...blankStudyRecord('000', ''),
  center: '000', study_iuid: '1.2.840.113619.2.55.3.604688119', study_pk: 2452, patient_pk: 77, patient_id: '12.345.678-5',
  patient_id_issuer: 'RUT', patient_name: 'MUÑOZ^JOSÉ^PÉREZ', patient_birthdate: '1980-01-15', patient_sex: 'M',
  study_datetime: '2015-03-22T00:53:17', study_description: 'TÓRAX PA Y LAT', study_modality: 'CR\\SR', modalities: ['CR', 'SR'],
  study_series: 3, study_instances: 120, accession_no: 'A-2015-001', study_id: '4711', referring_physician: 'SOTO^ANA',
  source_seq: 991, deleted: false,
};

const names = DECLARED_FIELDS.map((f) => f.name);

describe('the content hash (stored at every receiver: it must never change for the same record)', () => {
  it('is the hash computed before the declaration, for a full record and a tombstone', () => {
    expect(contentHash(BEFORE)).toBe('9b284411eabb178bd7e9c0418d7d2d1d');
    expect(contentHash(tombstoneRecord('000', '1.2.3', 5, 10))).toBe('eda013e508afe38e0afdd483423f1165');
  });

  it('hashes a null count ("the source cannot tell") apart from 0, the hashes of known counts unchanged', () => {
    const unknown = { ...BEFORE, study_series: null, study_instances: null };
    expect(contentHash(unknown)).toBe('38bcd74115397c8d02a30c6406f3e8ef');
    expect(contentHash(unknown)).not.toBe(contentHash({ ...BEFORE, study_series: 0, study_instances: 0 }));
    expect(contentHash({ ...BEFORE, study_series: null })).not.toBe(contentHash({ ...BEFORE, study_instances: null }));
    expect(contentHash(BEFORE)).toBe('9b284411eabb178bd7e9c0418d7d2d1d');
  });

  it('does not depend on the version, the centre or the hash itself', () => {
    const h = contentHash(BEFORE);
    expect(contentHash({ ...BEFORE, source_seq: 1, center: '999', content_hash: 'f'.repeat(32) } as StudyRecord)).toBe(h);
    expect(contentHash({ ...BEFORE, study_description: 'OTRO' })).not.toBe(h);
  });

  it('hashes the fields declared with a hash place, in that order, the places 1..n without gaps', () => {
    const places = DECLARED_FIELDS.filter((f) => f.hash !== undefined).map((f) => f.hash!).sort((a, b) => a - b);
    expect(places).toEqual(places.map((_, i) => i + 1));
    expect(HASHED_FIELDS).toHaveLength(places.length);
    expect(HASHED_FIELDS.slice(0, 2)).toEqual(['study_iuid', 'deleted']);
  });
});

describe('everything derived from the one declaration', () => {
  it('the published JSON schema has every declared field, in declaration order, and no other', () => {
    expect(Object.keys(studyRecordSchema.properties)).toEqual(names);
    for (const f of DECLARED_FIELDS) expect(studyRecordSchema.properties[f.name], f.name).toEqual(f.schema);
  });

  it('publishes the counts as integers or null (the source cannot tell), like the other nullable fields', () => {
    for (const f of ['study_series', 'study_instances'] as const) expect(studyRecordSchema.properties[f], f).toEqual({ type: ['integer', 'null'] });
    const unknown: StudyRecord = { ...BEFORE, study_series: null, study_instances: null };
    expect(unknown.study_series).toBeNull();
  });

  it('the record keys are the declared fields but the optional extras (content_hash)', () => {
    expect([...STUDY_RECORD_FIELDS]).toEqual(names.filter((n) => n !== 'content_hash'));
  });

  it('every field but the centre has a column of its own', () => {
    expect(STORED_FIELDS.map((f) => f.name)).toEqual(names.filter((n) => n !== 'center'));
  });

  it('the column limits and the field classes follow the declared sizes and kinds', () => {
    for (const f of DECLARED_FIELDS) {
      if (f.chars !== undefined) expect(COLUMN_CHARS[f.name as keyof typeof COLUMN_CHARS], f.name).toBe(f.chars);
      if (f.kind === 'text' || f.kind === 'identifier' || f.kind === 'uid') expect(f.chars, `${f.name} declares its size`).toBeGreaterThan(0);
    }
    expect([...FREE_TEXT_FIELDS]).toEqual(DECLARED_FIELDS.filter((f) => f.kind === 'text').map((f) => f.name));
    expect([...IDENTIFIER_FIELDS]).toEqual(DECLARED_FIELDS.filter((f) => f.kind === 'identifier').map((f) => f.name));
  });

  it('a blank record and a tombstone carry every record key', () => {
    expect(Object.keys(blankStudyRecord('000', '1.2')).sort()).toEqual([...STUDY_RECORD_FIELDS].sort());
    const t = tombstoneRecord('000', '1.2.3', 5, 10);
    expect(Object.keys(t)).toEqual([...STUDY_RECORD_FIELDS]);
    expect(t).toMatchObject({ center: '000', study_iuid: '1.2.3', study_pk: 5, source_seq: 10, deleted: true, modalities: [], study_series: 0, patient_name: null });
  });
});

describe('the legacy record (seed v1)', () => {
  it('carries the fields declared with a legacy name, the datetime as Python printed it', () => {
    const legacy = toLegacyRecord(BEFORE);
    const declared = DECLARED_FIELDS.filter((f) => f.legacy !== undefined);
    expect(Object.keys(legacy).sort()).toEqual(declared.map((f) => f.legacy!).sort());
    expect(legacy).toEqual({
      patient_pk: 77, patient_id: '12.345.678-5', patient_name: 'MUÑOZ^JOSÉ^PÉREZ', study_pk: 2452, study_iuid: BEFORE.study_iuid,
      study_datetime: '2015-03-22 00:53:17', study_description: 'TÓRAX PA Y LAT', study_modality: 'CR\\SR', study_series: 3,
      study_instances: 120, center: '000',
    });
    expect(toLegacyRecord({ ...BEFORE, study_datetime: null }).study_datetime).toBe('None');
  });
});
