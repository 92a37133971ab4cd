import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DimseClient, type DimseClientOptions } from '../../../../src/agent/sources/dimse/dimse-client.js';
import { expectNoPatientData, failsWith } from './support/assertions.js';
import { requireDicomTools, studySpec, writeStudyFiles } from './support/dicom-files.js';
import { startPacsOrthanc, type PacsOrthanc } from './support/pacs-orthanc.js';
import { startTlsOnlyServer, type TestServer } from './support/plain-servers.js';
import { makeTestCerts, type TestCerts } from './support/test-certs.js';

/**
 * DICOM TLS against a real Orthanc that requires it (client certificate demanded), and against
 * a bare TLS port: mutual TLS working, and each way it goes wrong — plain DICOM to a TLS port,
 * no client certificate, an untrusted server certificate, TLS to a plain port.
 */
const STUDY = studySpec({ patientId: 'TLS-001', patientName: 'MUÑOZ^JOSÉ', studyDate: '20240115', charset: 'ISO_IR 100' });

let dir: string;
let certs: TestCerts;
let secure: PacsOrthanc;
let plainPacs: PacsOrthanc;
let tlsOnly: TestServer;

const declared = { indexer: ['INDEXER', '127.0.0.1', 11112] as [string, string, number] };

function client(server: PacsOrthanc, over: Partial<DimseClientOptions> = {}): DimseClient {
  return new DimseClient({ host: '127.0.0.1', port: server.dicomPort, calledAet: server.aet, callingAet: 'INDEXER', queryDeadlineMs: 20_000, ...over });
}

const mutual = (): DimseClientOptions['tls'] => ({ ca: certs.ca, cert: certs.clientCert, key: certs.clientKey });

beforeAll(async () => {
  requireDicomTools();
  dir = mkdtempSync(join(tmpdir(), 'indexer-dimse-tls-'));
  certs = makeTestCerts(dir);
  const p = certs.paths;
  [secure, plainPacs, tlsOnly] = await Promise.all([
    startPacsOrthanc({ aet: 'TLSPACS', modalities: declared, tls: { cert: p.serverCert, key: p.serverKey, ca: p.ca } }),
    startPacsOrthanc({ aet: 'PLAINPACS', modalities: declared }),
    startTlsOnlyServer(certs),
  ]);
  await secure.upload(writeStudyFiles(STUDY, join(dir, 'study')));
});

afterAll(async () => {
  await Promise.all([secure?.stop(), plainPacs?.stop(), tlsOnly?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('DICOM TLS', () => {
  it('queries over mutual TLS', async () => {
    const c = client(secure, { tls: mutual() });
    await expect(c.echo()).resolves.toBeUndefined();
    const result = await c.findStudies({ StudyDate: '20240101-20240131' });
    expect(result.status).toBe('success');
    expect(result.answers.map((a) => [a.studyInstanceUid, a.patientName])).toEqual([[STUDY.studyUid, 'MUÑOZ^JOSÉ']]);
  });

  it('plain DICOM to a TLS-only port: TLS_REQUIRED, from Orthanc and from a bare TLS server', async () => {
    const { error } = await failsWith(client(secure).findStudies({}), 'TLS_REQUIRED');
    expect(error.hint).toMatch(/set dimse.tls.enabled/);
    await failsWith(client(secure, { port: tlsOnly.port }).echo(), 'TLS_REQUIRED');
    await expect.poll(() => tlsOnly.open, { timeout: 3000 }).toBe(0);
  });

  it('no client certificate where one is required: TLS_FAILED', async () => {
    const { error } = await failsWith(client(secure, { tls: { ca: certs.ca } }).echo(), 'TLS_FAILED');
    expect(error.message).toMatch(/TLS failed: [^:]*certificate required$/);
    expect(error.message).not.toMatch(/SSL routines|openssl|:error:/);
  });

  it('a server certificate the CA does not sign: TLS_FAILED', async () => {
    const { error } = await failsWith(client(secure, { tls: { ...mutual(), ca: certs.otherCa } }).findStudies({ PatientID: 'TLS-001' }), 'TLS_FAILED');
    expect(error.message).toMatch(/TLS failed: .*(self-signed|unable to verify)/);
    expectNoPatientData(error, ['TLS-001', 'MUÑOZ^JOSÉ']);
  });

  it('a host name the server certificate does not name: TLS_FAILED', async () => {
    const { error } = await failsWith(client(secure, { tls: mutual(), host: '127.0.0.2' }).echo(), 'TLS_FAILED');
    expect(error.message).toMatch(/TLS failed/);
  });

  it('TLS to a plain DICOM port: TLS_FAILED', async () => {
    await failsWith(client(plainPacs, { tls: mutual() }).echo(), 'TLS_FAILED');
    await expect(client(plainPacs).echo()).resolves.toBeUndefined();
  });
});
