import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOrthanc, type OrthancServer } from '../../helpers/orthanc.js';
import { apiV2, auditSince, lastAuditId, qidoAll } from '../dicomweb/qido-fixtures.js';
import { INDEX_AET, startDicomIndex, type DicomIndex } from './dimse-harness.js';

/**
 * A real Orthanc as the querying workstation (`/modalities/{id}/query`, its C-FIND SCU), in
 * Latin-1 (its default) and in UTF-8, against the seeded index: the answers equal /api/v2's for
 * the same filters, names arrive with their accents, every query is audited under Orthanc's AE title.
 */
let x: DicomIndex;
const orthancs: Record<'latin1' | 'utf8', OrthancServer | undefined> = { latin1: undefined, utf8: undefined };

beforeAll(async () => {
  x = await startDicomIndex('rx_dimse_orthanc');
  for (const [encoding, aet] of [['latin1', 'ORTHANC_L1'], ['utf8', 'ORTHANC_U8']] as const) {
    await x.clients.add(aet, 'central', '127.0.0.1');
    orthancs[encoding] = await startOrthanc({
      dicom: true,
      config: { DicomAet: aet, DefaultEncoding: encoding === 'latin1' ? 'Latin1' : 'Utf8', DicomModalities: { index: [INDEX_AET, '127.0.0.1', x.port] } },
    });
  }
}, 120_000);
afterAll(async () => {
  await Promise.all(Object.values(orthancs).map((o) => o?.stop()));
  await x?.close();
});

type Answer = Record<string, string>;

/** Orthanc's C-FIND through its REST API: every answer's simplified tags. */
async function query(o: OrthancServer, level: 'Study' | 'Patient', q: Record<string, string>, normalize = true): Promise<Answer[]> {
  const { ID } = await o.rest<{ ID: string }>('POST', '/modalities/index/query', JSON.stringify({ Level: level, Query: q, Normalize: normalize }));
  const indexes = await o.rest<string[]>('GET', `/queries/${ID}/answers`);
  return Promise.all(indexes.map((i) => o.rest<Answer>('GET', `/queries/${ID}/answers/${i}/content?simplify`)));
}

const RETURN = { StudyInstanceUID: '', PatientName: '', StudyDate: '', InstitutionName: '', ModalitiesInStudy: '' };

describe.each(['latin1', 'utf8'] as const)('Orthanc as the workstation (%s)', (encoding) => {
  const o = (): OrthancServer => orthancs[encoding]!;

  it('C-ECHO', async () => {
    await expect(o().rest('POST', '/modalities/index/echo', '{}')).resolves.toBeDefined();
  });

  it('the same studies as /api/v2 for the same filters: a RUT, a date range, a family name with accents', async () => {
    const cases: [Record<string, string>, Record<string, string>][] = [
      [{ PatientID: '12.345.678-5' }, { patient_id: '12.345.678-5' }],
      [{ StudyDate: '20210301-20210315' }, { from: '2021-03-01', to: '2021-03-15' }],
      [{ PatientName: 'PÉREZ*' }, { name: 'perez' }],
      [{ PatientName: 'pérez*', StudyDate: '20200101-', ModalitiesInStudy: 'CT' }, { name: 'perez', from: '2020-01-01', modality: 'CT' }],
    ];
    for (const [filters, api] of cases) {
      const answers = await query(o(), 'Study', { ...RETURN, ...filters });
      const uids = (await apiV2(x.s, api)).map((k) => k.split('/')[1]);
      expect(answers.map((a) => a.StudyInstanceUID), JSON.stringify(filters)).toEqual(uids);
    }
  });

  it('accented names arrive as stored', async () => {
    // Orthanc normally drops InstitutionName from a study-level query (it files it under series).
    const answers = await query(o(), 'Study', { ...RETURN, PatientName: 'NÚÑEZ*' }, false);
    expect(answers.length).toBe((await qidoAll(x.s, [['PatientName', 'NÚÑEZ*']], 100)).length);
    expect(new Set(answers.map((a) => a.PatientName))).toEqual(new Set(['NÚÑEZ^MARÍA', 'Núñez^María José']));
    expect(answers.map((a) => a.InstitutionName)).toEqual(expect.arrayContaining(['Hospital Regional de Concepción', 'Clínica Alemana']));
    // Orthanc declares its DefaultEncoding in the query; the answers come back in it.
    const line = x.logLines.filter((l) => l.includes('"C-FIND answered"') && l.includes(encoding === 'latin1' ? 'ORTHANC_L1' : 'ORTHANC_U8')).at(-1)!;
    expect(JSON.parse(line).charset).toBe(encoding === 'latin1' ? 'ISO_IR 100' : 'ISO_IR 192');
  });

  it('the patient level: one RUT patient, with the count of studies', async () => {
    const answers = await query(o(), 'Patient', { PatientID: '12345678-5', PatientName: '', NumberOfPatientRelatedStudies: '' });
    expect(answers).toHaveLength(1);
    expect(Number(answers[0]!.NumberOfPatientRelatedStudies)).toBe((await qidoAll(x.s, [['PatientID', '12345678-5']], 100)).length);
  });

  it("every query is audited under Orthanc's AE title", async () => {
    const since = await lastAuditId(x.s.rx);
    const answers = await query(o(), 'Study', { ...RETURN, PatientID: '12667869-K' });
    const rows = await auditSince(x.s.rx, since);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ token_name: 'central', route: 'C-FIND StudyRoot STUDY', result_count: answers.length, status: 200 });
    expect(JSON.parse(String(rows[0]!.parameters))).toMatchObject({ calling_aet: encoding === 'latin1' ? 'ORTHANC_L1' : 'ORTHANC_U8', keys: { PatientID: '12667869-K' } });
  });
});
