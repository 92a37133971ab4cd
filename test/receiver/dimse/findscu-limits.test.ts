import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDicomService, type DicomService, type DicomServiceSettings } from '../../../src/receiver/dimse/dicom-server.js';
import { createStore } from '../../../src/receiver/store/receiver-store.js';
import { createLogger } from '../../../src/shared/logger.js';
import { rutCheckDigit } from '../../../src/shared/patient-key.js';
import { auditSince, lastAuditId } from '../dicomweb/qido-fixtures.js';
import { bearer, http, record } from '../receiver-harness.js';
import { errorCommentOf, findscu, INDEX_AET, startDicomIndex, type DicomIndex } from './dimse-harness.js';

/**
 * The bounds of a C-FIND: C-CANCEL honoured (findscu --cancel), the answer cap (the first N, then
 * FE00 with an ErrorComment, as Orthanc does), the patient level's cap, and the store's time budget
 * (A700) — each audited with how it ended.
 */
let x: DicomIndex;
const BULK = 5000;
const BULK_RUT = `11111111-${rutCheckDigit('11111111')}`;
const services: DicomService[] = [];

beforeAll(async () => {
  x = await startDicomIndex('rx_dimse_limits');
  const records = Array.from({ length: BULK }, (_, i) => record(`1.2.77.${i}`, 1, {
    patient_id: BULK_RUT, patient_name: `BULTO^PACIENTE ${i % 7}`, study_description: 'BULK',
    study_datetime: `2022-0${1 + (i % 9)}-1${i % 10}T1${i % 10}:00:00`,
  }));
  const r = await http(x.s.rx.base, 'POST', '/api/v2/centers/C1/studies', { headers: bearer(x.s.centerKey), json: { records } });
  expect(r.json.stored).toBe(BULK);
}, 120_000);
afterAll(async () => {
  for (const s of services) await s.close(100);
  await x?.close();
});

/** Another DICOM service over the same index (and registry), with other settings. */
async function service(settings: Partial<DicomServiceSettings>, budgetMs?: number): Promise<number> {
  const store = budgetMs === undefined ? x.s.rx.store : createStore(x.s.rx.pool, { queryTimeLimitMs: budgetMs });
  const s = await startDicomService({ store, clients: x.clients, log: createLogger({ level: 'silent' }) }, {
    host: '127.0.0.1', port: 0, aet: INDEX_AET, maxResults: 1000, maxAssociations: 4, associationTimeoutMs: 5000, idleTimeoutMs: 15_000, ...settings,
  });
  services.push(s);
  return s.port;
}

const outcomeOf = (row: { [column: string]: unknown }) => JSON.parse(String(row.parameters)) as { outcome: string; dimse_status: string };

describe('C-CANCEL', () => {
  it('findscu --cancel 3: the answers stop, the final status is FE00, the audit says cancelled', async () => {
    const since = await lastAuditId(x.s.rx);
    const r = await findscu({ port: x.port, keys: ['QueryRetrieveLevel=STUDY', 'StudyDescription=BULK', 'StudyInstanceUID', 'PatientName'], extra: ['--cancel', '3'] });
    expect(r.output).toMatch(/Sending Cancel Request/);
    expect(r.status, r.output.slice(-600)).toBe('fe00');
    expect(r.answers.length).toBeGreaterThanOrEqual(3);
    expect(r.answers.length).toBeLessThan(1000);
    const [row] = await auditSince(x.s.rx, since);
    expect(outcomeOf(row!)).toMatchObject({ outcome: 'cancelled', dimse_status: 'FE00' });
    expect(row!.result_count).toBeGreaterThanOrEqual(r.answers.length);
    expect(row!.status).toBe(200);
  });
});

describe('the answer cap (RECEIVER_DICOM_MAX_RESULTS)', () => {
  it('the first N answers, then FE00 with an ErrorComment to narrow the query; exactly N matches end in success', async () => {
    const port = await service({ maxResults: 10 });
    const since = await lastAuditId(x.s.rx);
    const r = await findscu({ port, keys: ['QueryRetrieveLevel=STUDY', 'StudyDescription=BULK', 'StudyInstanceUID'] });
    expect(r.answers).toHaveLength(10);
    expect(r.status).toBe('fe00');
    expect(errorCommentOf(r.output)).toBe('more than 10 studies match: narrow the query');
    // Newest first, as every read interface.
    const dates = r.answers.map((a) => String(a.StudyInstanceUID));
    expect(new Set(dates).size).toBe(10);
    const [row] = await auditSince(x.s.rx, since);
    expect(outcomeOf(row!)).toMatchObject({ outcome: 'capped', dimse_status: 'FE00' });
    expect(row!.result_count).toBe(10);

    const ten = Array.from({ length: 10 }, (_, i) => `1.2.77.${i}`).join('\\');
    const exact = await findscu({ port, keys: ['QueryRetrieveLevel=STUDY', `StudyInstanceUID=${ten}`] });
    expect(exact.answers).toHaveLength(10);
    expect(exact.status).toBe('0000');
  });

  it('the patient level caps patients; a patient with more studies than it may read is counted on its own', async () => {
    const port = await service({ maxResults: 2 });
    const r = await findscu({ port, patientRoot: true, keys: ['QueryRetrieveLevel=PATIENT', 'PatientName=*', 'PatientID'] });
    expect(r.answers).toHaveLength(2);
    expect(r.status).toBe('fe00');
    expect(errorCommentOf(r.output)).toBe('more than 2 patients match: narrow the query');

    const one = await service({ maxResults: 1 });
    const bulk = await findscu({ port: one, patientRoot: true, keys: ['QueryRetrieveLevel=PATIENT', `PatientID=${BULK_RUT}`, 'NumberOfPatientRelatedStudies'] });
    expect(bulk.answers).toHaveLength(1);
    expect(Number(bulk.answers[0]!.NumberOfPatientRelatedStudies)).toBe(BULK);
    expect(bulk.status).toBe('fe00');
    expect(errorCommentOf(bulk.output)).toMatch(/too many matching studies/);
  });
});

describe('the time budget (RECEIVER_QUERY_TIME_LIMIT_MS)', () => {
  it('a search the store stops is answered A700 with an ErrorComment, nothing internal, audited 413', async () => {
    const port = await service({}, 1);
    const since = await lastAuditId(x.s.rx);
    const r = await findscu({ port, keys: ['QueryRetrieveLevel=STUDY', 'PatientName=*zzzz*', 'StudyDescription=*yyyy*', 'ReferringPhysicianName=*qqqq*', 'StudyInstanceUID'] });
    expect(r.answers).toEqual([]);
    expect(r.status).toBe('a700');
    expect(errorCommentOf(r.output)).toBe('the query is too broad: narrow it (a date range, a patient)');
    const [row] = await auditSince(x.s.rx, since);
    expect(row).toMatchObject({ status: 413, result_count: 0 });
    expect(outcomeOf(row!)).toMatchObject({ outcome: 'failed', dimse_status: 'A700' });
  });
});
