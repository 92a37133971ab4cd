import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DimseClient, type DimseClientOptions } from '../../../../src/agent/sources/dimse/dimse-client.js';
import type { StudyAnswer } from '../../../../src/agent/sources/dimse/study-answer.js';
import { expectNoPatientData, failsWith } from './support/assertions.js';
import { requireDicomTools, studySpec, writeStudyFiles, type StudySpec } from './support/dicom-files.js';
import { startPacsOrthanc, type PacsOrthanc } from './support/pacs-orthanc.js';

/**
 * The client against a real Orthanc as the PACS: every mapped field, multi-modality studies,
 * counts, date-range and other matching keys, latin1 and UTF-8 answers, truncation by
 * LimitFindResults, C-CANCEL at maxAnswers, C-ECHO, and Orthanc's three ways of refusing an
 * agent: wrong called AE title, undeclared calling AE title (rejected, or accepted then aborted).
 */
const INDEXER = 'INDEXER';
const declared = { indexer: [INDEXER, '127.0.0.1', 11112] as [string, string, number] };

const STUDIES: StudySpec[] = [
  studySpec({
    patientId: 'P-0001', patientName: 'MUÑOZ^JOSÉ', issuer: 'HOSP-A', birthDate: '19800229', sex: 'M', studyDate: '20240115', studyTime: '101530.123',
    description: 'TÓRAX CON CONTRASTE', accession: 'ACC0001', studyId: 'S1', referring: 'PÉREZ^ANA^^DR', charset: 'ISO_IR 100',
    series: [{ modality: 'CT', instances: 2 }, { modality: 'MR', instances: 1 }],
  }),
  studySpec({ patientId: 'P-0002', patientName: 'ÑANDÚ^BEGOÑA^MARÍA', birthDate: '19801340', sex: 'F', studyDate: '20240120', charset: 'ISO_IR 100', series: [{ modality: 'MR', instances: 2 }] }),
  studySpec({ patientId: 'P-0003', patientName: 'SMITH^JOHN', studyDate: '20231231', studyTime: '0845', charset: 'ISO_IR 100', series: [{ modality: 'CT', instances: 1 }] }),
  studySpec({
    patientId: 'P-0004', patientName: "O'BRIEN^SEÁN", studyDate: '20240201', studyTime: '2359', charset: 'ISO_IR 100',
    series: [{ modality: 'CT', instances: 1 }, { modality: 'MR', instances: 1 }],
  }),
  studySpec({ patientId: 'Q-0005', studyDate: null, charset: 'ISO_IR 100', series: [{ modality: 'CT', instances: 1 }] }),
];
/** Only in the UTF-8 Orthanc: a name latin1 cannot hold. */
const POLISH = studySpec({ patientId: 'P-0006', patientName: 'ŁUKASZ^ŻÓŁĆ', studyDate: '20240301', charset: 'ISO_IR 192' });
const PATIENT_VALUES = [...STUDIES, POLISH].flatMap((s) => [s.patientId, s.patientName ?? '', s.birthDate ?? '', s.accession ?? '']).filter(Boolean);

let dir: string;
let main: PacsOrthanc;
let capped: PacsOrthanc;

function client(server: PacsOrthanc, over: Partial<DimseClientOptions> = {}): DimseClient {
  return new DimseClient({ host: '127.0.0.1', port: server.dicomPort, calledAet: server.aet, callingAet: INDEXER, queryDeadlineMs: 20_000, ...over });
}

const uidsOf = (answers: readonly StudyAnswer[]): string[] => answers.map((a) => a.studyInstanceUid).sort();
const uids = (...indexes: number[]): string[] => indexes.map((i) => STUDIES[i]!.studyUid).sort();

beforeAll(async () => {
  requireDicomTools();
  dir = mkdtempSync(join(tmpdir(), 'indexer-dimse-files-'));
  const files = STUDIES.flatMap((s) => writeStudyFiles(s, join(dir, s.patientId)));
  [main, capped] = await Promise.all([
    startPacsOrthanc({ aet: 'PACSMAIN', modalities: declared, checkCalledAet: true }),
    startPacsOrthanc({ aet: 'PACSCAP', modalities: declared, limitFindResults: 3, alwaysAllowEcho: true, defaultEncoding: 'Utf8' }),
  ]);
  await main.upload(files);
  await capped.upload([...files, ...writeStudyFiles(POLISH, join(dir, POLISH.patientId))]);
});

afterAll(async () => {
  await Promise.all([main?.stop(), capped?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('C-FIND against Orthanc', () => {
  it('answers every study with every field mapped, latin1 names decoded', async () => {
    const result = await client(main).findStudies({});
    expect(result).toMatchObject({ status: 'success', statusCode: 0, limited: false, dropped: 0 });
    expect(uidsOf(result.answers)).toEqual(uids(0, 1, 2, 3, 4));
    const byUid = new Map(result.answers.map((a) => [a.studyInstanceUid, a]));
    expect(byUid.get(STUDIES[0]!.studyUid)).toEqual({
      studyInstanceUid: STUDIES[0]!.studyUid, patientId: 'P-0001', issuerOfPatientId: 'HOSP-A', patientName: 'MUÑOZ^JOSÉ',
      patientBirthDate: '1980-02-29', patientSex: 'M', studyDateTime: '2024-01-15T10:15:30', accessionNumber: 'ACC0001', studyId: 'S1',
      studyDescription: 'TÓRAX CON CONTRASTE', referringPhysician: 'PÉREZ^ANA^^DR', modalities: ['CT', 'MR'], series: 2, instances: 3, invalid: [],
    });
    expect(byUid.get(STUDIES[1]!.studyUid)).toMatchObject({
      patientName: 'ÑANDÚ^BEGOÑA^MARÍA', patientBirthDate: null, invalid: ['patientBirthDate'], patientSex: 'F',
      studyDateTime: '2024-01-20T00:00:00', modalities: ['MR'], series: 1, instances: 2, accessionNumber: null, referringPhysician: null,
    });
    expect(byUid.get(STUDIES[2]!.studyUid)).toMatchObject({ patientName: 'SMITH^JOHN', studyDateTime: '2023-12-31T08:45:00', modalities: ['CT'], series: 1, instances: 1 });
    expect(byUid.get(STUDIES[3]!.studyUid)).toMatchObject({ patientName: "O'BRIEN^SEÁN", studyDateTime: '2024-02-01T23:59:00', modalities: ['CT', 'MR'], series: 2, instances: 2 });
    expect(byUid.get(STUDIES[4]!.studyUid)).toMatchObject({ patientName: null, studyDateTime: null, patientId: 'Q-0005', invalid: [] });
  });

  it('matches date ranges, open ranges and single dates', async () => {
    const c = client(main);
    expect(uidsOf((await c.findStudies({ StudyDate: '20240101-20240131' })).answers)).toEqual(uids(0, 1));
    expect(uidsOf((await c.findStudies({ StudyDate: '20240116-' })).answers)).toEqual(uids(1, 3));
    expect(uidsOf((await c.findStudies({ StudyDate: '-20231231' })).answers)).toEqual(uids(2));
    expect(uidsOf((await c.findStudies({ StudyDate: '20240115' })).answers)).toEqual(uids(0));
    expect((await c.findStudies({ StudyDate: '19000101-19000102' })).answers).toEqual([]);
  });

  it('matches modalities, UID lists and wildcards', async () => {
    const c = client(main);
    expect(uidsOf((await c.findStudies({ ModalitiesInStudy: 'MR' })).answers)).toEqual(uids(0, 1, 3));
    expect(uidsOf((await c.findStudies({ StudyInstanceUID: [STUDIES[0]!.studyUid, STUDIES[2]!.studyUid] })).answers)).toEqual(uids(0, 2));
    expect(uidsOf((await c.findStudies({ PatientID: 'P-*' })).answers)).toEqual(uids(0, 1, 2, 3));
    // A list far longer than one UI value (64 characters): every UID must reach the server.
    const many = [...STUDIES.map((st) => st.studyUid), ...Array.from({ length: 200 }, (_, i) => `1.2.826.0.1.3680043.2.1125.${i}.${'9'.repeat(20)}`)];
    expect(uidsOf((await c.findStudies({ StudyInstanceUID: many })).answers)).toEqual(uids(0, 1, 2, 3, 4));
  });

  it('decodes UTF-8 answers (ISO_IR 192) from an Orthanc whose encoding is UTF-8', async () => {
    const result = await client(capped).findStudies({ StudyInstanceUID: POLISH.studyUid });
    expect(result.answers.map((a) => a.patientName)).toEqual(['ŁUKASZ^ŻÓŁĆ']);
    const latin = await client(capped).findStudies({ StudyInstanceUID: STUDIES[0]!.studyUid });
    expect(latin.answers[0]).toMatchObject({ patientName: 'MUÑOZ^JOSÉ', studyDescription: 'TÓRAX CON CONTRASTE' });
  });

  it('reports Orthanc’s LimitFindResults as cancelled (0xFE00) with the answers it sent', async () => {
    const result = await client(capped).findStudies({});
    expect(result).toMatchObject({ status: 'cancelled', statusCode: 0xfe00, limited: false });
    expect(result.answers).toHaveLength(3);
  });

  it('stops at maxAnswers with a C-CANCEL, and says the list may be incomplete', async () => {
    const limited = await client(main).findStudies({}, { maxAnswers: 2 });
    expect(limited).toMatchObject({ status: 'cancelled', limited: true });
    expect(limited.answers).toHaveLength(2);
    const roomy = await client(main).findStudies({}, { maxAnswers: 10 });
    expect(roomy).toMatchObject({ status: 'success', statusCode: 0, limited: false });
    expect(roomy.answers).toHaveLength(5);
  });
});

describe('C-ECHO and refusals', () => {
  it('echoes when the calling AE title is declared', async () => {
    await expect(client(main).echo()).resolves.toBeUndefined();
  });

  it('names a wrong called AE title (DicomCheckCalledAet)', async () => {
    const c = client(main, { calledAet: 'NOTTHEPACS' });
    for (const call of [c.echo(), c.findStudies({})]) {
      const { error } = await failsWith(call, 'REJECTED_CALLED_AE');
      expect(error.rejection).toEqual({ result: 1, source: 1, reason: 7 });
      expect(error.message).toMatch(/called AE title not recognised/);
      expect(error.message).toContain('NOTTHEPACS@127.0.0.1');
      expect(error.hint).toMatch(/dimse\.called_aet/);
    }
  });

  it('names an undeclared calling AE title when Orthanc rejects the association', async () => {
    const { error } = await failsWith(client(main, { callingAet: 'STRANGER' }).findStudies({}), 'REJECTED_CALLING_AE');
    expect(error.code).toBe('DB_PRIVILEGES');
    expect(error.rejection).toEqual({ result: 1, source: 1, reason: 3 });
    expect(error.hint).toMatch(/declare the agent's calling AE title/);
  });

  it('sees the A-ABORT of an accepted association at once, not at the library idle timer, and the client goes on', async () => {
    // DicomAlwaysAllowEcho: Orthanc accepts STRANGER's association, then aborts its C-FIND.
    const c = client(capped, { callingAet: 'STRANGER', queryDeadlineMs: 30_000 });
    const { error, ms } = await failsWith(c.findStudies({ StudyDate: '20240101-' }), 'PEER_ABORTED');
    expect(ms).toBeLessThan(3000);
    expect(error.message).toMatch(/A-ABORT.*waiting for the C-FIND answers \(0 received\)/);
    await expect(c.echo()).resolves.toBeUndefined();
    await failsWith(c.findStudies({}), 'PEER_ABORTED');
    await expect(client(capped).findStudies({ StudyInstanceUID: POLISH.studyUid })).resolves.toMatchObject({ status: 'success' });
  });

  it('never quotes a patient value in these errors', async () => {
    const errors = await Promise.all([
      failsWith(client(capped, { callingAet: 'STRANGER' }).findStudies({ PatientID: 'P-0001' }), 'PEER_ABORTED'),
      failsWith(client(main, { calledAet: 'NOTTHEPACS' }).findStudies({ PatientID: 'P-0001' }), 'REJECTED_CALLED_AE'),
      failsWith(client(main).findStudies({ PatientName: 'MUÑOZ^JOSÉ' }), 'INVALID_QUERY'),
    ]);
    for (const { error } of errors) expectNoPatientData(error, PATIENT_VALUES);
  });
});
