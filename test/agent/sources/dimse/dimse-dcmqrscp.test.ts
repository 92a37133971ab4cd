import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DimseClient } from '../../../../src/agent/sources/dimse/dimse-client.js';
import type { StudyAnswer } from '../../../../src/agent/sources/dimse/study-answer.js';
import { requireDicomTools, studySpec, writeStudyFiles, type StudySpec } from './support/dicom-files.js';
import { startDcmqrscp, type Dcmqrscp } from './support/dcmqrscp.js';

/**
 * The client against DCMTK's dcmqrscp, a server that answers a study-level C-FIND without
 * ModalitiesInStudy and without the study-related counts: those must come out null and empty,
 * never 0. Its index keeps each file's bytes and character set, so it also serves answers in
 * ISO_IR 100, with no character set declared (ASCII, and the UTF-8 or latin1 bytes of archives
 * that never declare one), and — configured to convert — in ISO_IR 192.
 */
const STUDIES: Record<string, StudySpec> = {
  latin1: studySpec({ patientId: 'QR-1', patientName: 'MUÑOZ^JOSÉ', studyDate: '20240115', studyTime: '101530', description: 'TÓRAX', charset: 'ISO_IR 100',
    series: [{ modality: 'CT', instances: 2 }, { modality: 'MR', instances: 1 }] }),
  ascii: studySpec({ patientId: 'QR-2', patientName: 'PLAIN^ASCII^^DR', birthDate: '19700101', studyDate: '20240116', charset: 'none-latin1' }),
  utf8: studySpec({ patientId: 'QR-3', patientName: 'GARCÍA^ÑOÑO', studyDate: '20240117', charset: 'none-utf8' }),
  undeclaredLatin1: studySpec({ patientId: 'QR-4', patientName: 'PEÑA^LUÍS', studyDate: '20240118', charset: 'none-latin1' }),
  declaredUtf8: studySpec({ patientId: 'QR-5', patientName: 'ŁUKASZ^ŻÓŁĆ', studyDate: '20240119', charset: 'ISO_IR 192' }),
};

let dir: string;
let fallback: Dcmqrscp;
let converting: Dcmqrscp;

const client = (server: Dcmqrscp): DimseClient =>
  new DimseClient({ host: '127.0.0.1', port: server.port, calledAet: server.aet, callingAet: 'INDEXER', queryDeadlineMs: 20_000 });

async function answerOf(server: Dcmqrscp, spec: StudySpec): Promise<StudyAnswer> {
  const result = await client(server).findStudies({ StudyInstanceUID: spec.studyUid });
  expect(result.status).toBe('success');
  expect(result.answers).toHaveLength(1);
  return result.answers[0]!;
}

beforeAll(async () => {
  requireDicomTools();
  dir = mkdtempSync(join(tmpdir(), 'indexer-dimse-qr-'));
  const files = Object.fromEntries(Object.entries(STUDIES).map(([k, s]) => [k, writeStudyFiles(s, join(dir, k))]));
  [fallback, converting] = await Promise.all([
    startDcmqrscp({ aet: 'QRSCP' }),
    startDcmqrscp({ aet: 'QRUTF8', characterSet: '"ISO_IR 192", override' }),
  ]);
  await fallback.store(Object.values(files).flat());
  await converting.store([...files.latin1!, ...files.declaredUtf8!]);
});

afterAll(async () => {
  await Promise.all([fallback?.stop(), converting?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('C-FIND against dcmqrscp', () => {
  it('gives null counts and no modalities when the server returns neither', async () => {
    const result = await client(fallback).findStudies({});
    expect(result).toMatchObject({ status: 'success', statusCode: 0, dropped: 0 });
    expect(result.answers).toHaveLength(Object.keys(STUDIES).length);
    for (const a of result.answers) expect(a).toMatchObject({ series: null, instances: null, modalities: [], invalid: [] });
  });

  it('maps the fields it does return', async () => {
    expect(await answerOf(fallback, STUDIES.latin1!)).toMatchObject({
      patientId: 'QR-1', patientName: 'MUÑOZ^JOSÉ', studyDateTime: '2024-01-15T10:15:30', studyDescription: 'TÓRAX', series: null, instances: null, modalities: [],
    });
    expect(await answerOf(fallback, STUDIES.ascii!)).toMatchObject({ patientName: 'PLAIN^ASCII^^DR', patientBirthDate: '1970-01-01', studyDateTime: '2024-01-16T00:00:00' });
  });

  it('matches date ranges', async () => {
    const result = await client(fallback).findStudies({ StudyDate: '20240116-20240118' });
    expect(result.answers.map((a) => a.patientId).sort()).toEqual(['QR-2', 'QR-3', 'QR-4']);
  });

  it('decodes undeclared UTF-8 and undeclared latin1 names alike', async () => {
    expect((await answerOf(fallback, STUDIES.utf8!)).patientName).toBe('GARCÍA^ÑOÑO');
    expect((await answerOf(fallback, STUDIES.undeclaredLatin1!)).patientName).toBe('PEÑA^LUÍS');
  });

  it('decodes answers the server converted to ISO_IR 192', async () => {
    expect((await answerOf(converting, STUDIES.latin1!)).patientName).toBe('MUÑOZ^JOSÉ');
    expect((await answerOf(converting, STUDIES.declaredUtf8!)).patientName).toBe('ŁUKASZ^ŻÓŁĆ');
  });

  it('echoes', async () => {
    await expect(client(fallback).echo()).resolves.toBeUndefined();
  });
});
