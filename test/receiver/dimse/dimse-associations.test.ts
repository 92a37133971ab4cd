import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dimse from 'dcmjs-dimse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDicomService, type DicomService, type DicomServiceSettings } from '../../../src/receiver/dimse/dicom-server.js';
import { createLogger } from '../../../src/shared/logger.js';
import { makeTestCerts, type TestCerts } from '../../agent/sources/dimse/support/test-certs.js';
import { auditSince, lastAuditId } from '../dicomweb/qido-fixtures.js';
import { addToken } from '../receiver-harness.js';
import { echoscu, findscu, INDEX_AET, run, startDicomIndex, WORKSTATION, type DicomIndex } from './dimse-harness.js';
import { associateRq, contextResults, explicitElement, findCommand, openFind, pdata, RawAssociation, STUDY_ROOT_FIND, VERIFICATION } from './raw-dimse.js';

/**
 * Who may associate (the AE-title registry, the called AE title, a revoked token, an address
 * restriction), what is negotiated (Verification and the FIND models; C-MOVE and C-GET refused),
 * the association cap, and TLS — with DCMTK's echoscu/findscu/movescu as the workstation.
 */
let x: DicomIndex;
let certs: TestCerts;
const services: DicomService[] = [];

beforeAll(async () => {
  x = await startDicomIndex('rx_dimse_assoc');
  certs = makeTestCerts(mkdtempSync(join(tmpdir(), 'rx-dimse-tls-')));
});
afterAll(async () => {
  for (const s of services) await s.close(100);
  await x?.close();
  if (certs) rmSync(certs.dir, { recursive: true, force: true });
});

async function service(settings: Partial<DicomServiceSettings>): Promise<number> {
  const s = await startDicomService({ store: x.s.rx.store, clients: x.clients, log: createLogger({ level: 'silent' }) }, {
    host: '127.0.0.1', port: 0, aet: INDEX_AET, maxResults: 1000, maxAssociations: 8, associationTimeoutMs: 5000, idleTimeoutMs: 15_000, ...settings,
  });
  services.push(s);
  return s.port;
}

/** echoscu's words for an A-ASSOCIATE-RJ (DCMTK prints result, source and reason). */
const rejected = (reason: RegExp) => expect.stringMatching(reason);

describe('the AE-title registry', () => {
  it('C-ECHO answered for a listed AE title', async () => {
    const r = await echoscu(x.port);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/Received Echo Response \(Success\)/);
  });

  it('an unlisted calling AE title: rejected permanent, service user, calling AE title not recognised; logged, not audited', async () => {
    const since = await lastAuditId(x.s.rx);
    const r = await echoscu(x.port, 'STRANGER');
    expect(r.code).not.toBe(0);
    expect(r.output).toEqual(rejected(/Rejected Permanent[\s\S]*Service User[\s\S]*Calling AE Title Not Recognized/i));
    const f = await findscu({ port: x.port, aet: 'STRANGER', keys: ['QueryRetrieveLevel=STUDY', 'PatientID=12345678-5'] });
    expect(f.answers).toEqual([]);
    expect(await auditSince(x.s.rx, since)).toEqual([]);
    const line = x.logLines.find((l) => l.includes('"association rejected"') && l.includes('STRANGER'));
    expect(JSON.parse(line!)).toMatchObject({ calling_aet: 'STRANGER', result: 1, source: 1, reason: 3, why: 'calling AE title not recognised' });
  });

  it('another called AE title: rejected, called AE title not recognised', async () => {
    const r = await echoscu(x.port, WORKSTATION, 'SOMEONE_ELSE');
    expect(r.output).toEqual(rejected(/Rejected Permanent[\s\S]*Service User[\s\S]*Called AE Title Not Recognized/i));
    // AE titles are case-sensitive.
    expect((await echoscu(x.port, WORKSTATION, INDEX_AET.toLowerCase())).output).toMatch(/Called AE Title Not Recognized/i);
    expect((await echoscu(x.port, WORKSTATION.toLowerCase())).output).toMatch(/Calling AE Title Not Recognized/i);
  });

  it("a revoked token's AE title is refused like an unknown one; the token re-issued, it is accepted again", async () => {
    await addToken(x.s.rx.store, 'ward-7');
    await x.clients.add('WARD7', 'ward-7', null);
    expect((await echoscu(x.port, 'WARD7')).code).toBe(0);
    await x.s.rx.store.access.revokeToken('ward-7');
    expect((await echoscu(x.port, 'WARD7')).output).toMatch(/Calling AE Title Not Recognized/i);
    expect(await x.clients.find('WARD7')).toMatchObject({ token_name: 'ward-7', token_active: false });
    await addToken(x.s.rx.store, 'ward-7', 'a-new-secret-for-ward-7-0123456789');
    expect((await echoscu(x.port, 'WARD7')).code).toBe(0);
  });

  it('an AE title tied to an address is refused from any other', async () => {
    await x.clients.add('FIXED_WS', 'central', '10.20.30.40');
    await x.clients.add('LOCAL_WS', 'central', '127.0.0.1');
    expect((await echoscu(x.port, 'FIXED_WS')).output).toMatch(/Calling AE Title Not Recognized/i);
    expect((await echoscu(x.port, 'LOCAL_WS')).code).toBe(0);
  });

  it('the audit names the token and the calling AE title of each query', async () => {
    await addToken(x.s.rx.store, 'radiology');
    await x.clients.add('RAD_WS', 'radiology', null);
    const since = await lastAuditId(x.s.rx);
    await findscu({ port: x.port, aet: 'RAD_WS', keys: ['QueryRetrieveLevel=STUDY', 'PatientID=12345678-5'] });
    const [row] = await auditSince(x.s.rx, since);
    expect(row).toMatchObject({ token_name: 'radiology', route: 'C-FIND StudyRoot STUDY', status: 200 });
    expect(JSON.parse(String(row!.parameters))).toMatchObject({ calling_aet: 'RAD_WS', keys: { PatientID: '12345678-5' } });
  });
});

describe('negotiation', () => {
  it('C-MOVE and C-GET contexts are refused (abstract syntax not supported): movescu finds nothing to use', async () => {
    const r = await run('movescu', ['-d', '-S', '-aet', WORKSTATION, '-aec', INDEX_AET, '-aem', WORKSTATION, '-k', 'QueryRetrieveLevel=STUDY', '-k', 'StudyInstanceUID=1.2.826.0.1.3', '127.0.0.1', String(x.port)]);
    // (movescu exits 0 all the same.)
    expect(r.output).toMatch(/Move SCU Failed: .*No valid Presentation Context/i);
    const a = new RawAssociation(x.port);
    await a.ready();
    const MOVE = '1.2.840.10008.5.1.4.1.2.2.2';
    const GET = '1.2.840.10008.5.1.4.1.2.2.3';
    const STORAGE = '1.2.840.10008.5.1.4.1.1.2';
    await a.send(associateRq(WORKSTATION, INDEX_AET, [STUDY_ROOT_FIND, MOVE, GET, STORAGE, VERIFICATION]));
    const ac = await a.next(0x02);
    a.destroy();
    expect(contextResults(ac!.body)).toEqual({ 1: 0, 3: 3, 5: 3, 7: 3, 9: 0 });
  });

  it('a C-MOVE sent on the FIND context anyway is refused 0122 (SOP class not supported) with an ErrorComment', async () => {
    const { Client, requests } = dimse;
    for (const request of [requests.CMoveRequest.createStudyMoveRequest('WS1', '1.2.826.0.1.3'), requests.CGetRequest.createStudyGetRequest('1.2.826.0.1.3')]) {
      request.setAffectedSopClassUid(dimse.constants.SopClass.StudyRootQueryRetrieveInformationModelFind);
      const client = new Client();
      const responses: { status: number; comment: string | undefined }[] = [];
      request.on('response', (rsp: { getStatus(): number; getErrorComment(): string | undefined }) => responses.push({ status: rsp.getStatus(), comment: rsp.getErrorComment() }));
      client.addRequest(request);
      await new Promise<void>((resolve, reject) => {
        client.on('closed', () => resolve());
        client.on('networkError', reject);
        client.send('127.0.0.1', x.port, WORKSTATION, INDEX_AET);
      });
      expect(responses).toEqual([{ status: 0x0122, comment: "this index retrieves nothing: use RetrieveAETitle's PACS" }]);
    }
  });
});

describe('the association cap (RECEIVER_DICOM_MAX_ASSOCIATIONS)', () => {
  it('past it: rejected transient, local limit exceeded; free again once one closes', async () => {
    const port = await service({ maxAssociations: 2 });
    const held: RawAssociation[] = [];
    for (let i = 0; i < 2; i++) {
      const a = new RawAssociation(port);
      await a.ready();
      await a.send(associateRq(WORKSTATION, INDEX_AET, [VERIFICATION]));
      expect(await a.next(0x02)).not.toBeNull();
      held.push(a);
    }
    const over = await echoscu(port);
    expect(over.output).toMatch(/Rejected Transient[\s\S]*Local Limit Exceeded/i);
    held[0]!.destroy();
    await expect.poll(async () => (await echoscu(port)).code, { timeout: 5000 }).toBe(0);
    for (const a of held) a.destroy();
  });
});

describe('admission against silent connections and revoked tokens', () => {
  it('sockets that never ask for an association hold no slot: a workstation still associates', async () => {
    const port = await service({ maxAssociations: 2 });
    // Another host's silent sockets (127.0.0.2): most are closed at once, the rest wait for nothing.
    const silent = Array.from({ length: 40 }, () => {
      const s = connect({ port, host: '127.0.0.1', localAddress: '127.0.0.2' });
      s.on('error', () => undefined);
      return s;
    });
    await new Promise((r) => setTimeout(r, 300));
    try {
      const echo = await echoscu(port);
      expect(echo.code, echo.output).toBe(0);
      expect(silent.filter((s) => s.destroyed || s.readyState === 'closed').length).toBeGreaterThan(30);
    } finally {
      for (const s of silent) s.destroy();
    }
  });

  it('a token revoked during an association: its next C-FIND is refused 0124 and the association ends', async () => {
    await addToken(x.s.rx.store, 'ward-9');
    await x.clients.add('WARD9', 'ward-9', null);
    const a = await openFind(x.port, 'WARD9', INDEX_AET);
    const level = Buffer.concat([
      explicitElement('00080052', 'CS', Buffer.from('STUDY ')), explicitElement('00100020', 'LO', Buffer.from('12345678-5')),
    ]);
    await a.send(pdata(1, true, true, findCommand(1)));
    await a.send(pdata(1, false, true, level));
    await expect.poll(() => a.statuses().filter((st) => st !== 0xff00), { timeout: 5000 }).toEqual([0x0000]);
    await x.s.rx.store.access.revokeToken('ward-9');
    await a.send(pdata(1, true, true, findCommand(2)));
    await a.send(pdata(1, false, true, level));
    await expect.poll(() => a.statuses().filter((st) => st !== 0xff00), { timeout: 5000 }).toEqual([0x0000, 0x0124]);
    expect(await a.closedWithin(5000)).toBe(true);
  });

  it('a calling AE title outside the AE repertoire is not recognised (permanent), not "registry unavailable"', async () => {
    const a = new RawAssociation(x.port);
    await a.ready();
    const rq = associateRq('XXX', INDEX_AET, [VERIFICATION]);
    // Bytes 26-41 of the PDU are the calling AE title.
    Buffer.from('\xd1\xd1\xd1'.padEnd(16, ' '), 'latin1').copy(rq, 26);
    await a.send(rq);
    const rj = await a.next(0x03);
    expect(rj).not.toBeNull();
    // A-ASSOCIATE-RJ body: reserved, result, source, reason.
    expect([...rj!.body.subarray(1, 4)]).toEqual([1, 1, 3]);
    a.destroy();
  });
});

describe('TLS (RECEIVER_DICOM_TLS_*)', () => {
  const tlsArgs = (withCert: boolean) => [
    ...(withCert ? ['+tls', certs.paths.clientKey, certs.paths.clientCert] : ['+tla']), '+cf', certs.paths.ca,
  ];

  it('a workstation trusting the CA queries over TLS; plain TCP gets no association', async () => {
    const port = await service({ tls: { cert: certs.serverCert, key: certs.serverKey, requireClientCert: false } });
    const echo = await run('echoscu', ['-v', ...tlsArgs(false), '-aet', WORKSTATION, '-aec', INDEX_AET, '127.0.0.1', String(port)]);
    expect(echo.code, echo.output).toBe(0);
    const find = await findscu({ port, keys: ['QueryRetrieveLevel=STUDY', 'PatientID=12.345.678-5', 'StudyInstanceUID'], extra: tlsArgs(false) });
    expect(find.status).toBe('0000');
    expect(find.answers.length).toBeGreaterThan(0);
    expect((await echoscu(port)).code).not.toBe(0);
  });

  it('with a required client certificate: refused without one, accepted with one signed by the CA', async () => {
    const port = await service({ tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca, requireClientCert: true } });
    const anonymous = await run('echoscu', ['-v', ...tlsArgs(false), '-aet', WORKSTATION, '-aec', INDEX_AET, '127.0.0.1', String(port)]);
    expect(anonymous.code).not.toBe(0);
    const mutual = await run('echoscu', ['-v', ...tlsArgs(true), '-aet', WORKSTATION, '-aec', INDEX_AET, '127.0.0.1', String(port)]);
    expect(mutual.code, mutual.output).toBe(0);
  });
});
