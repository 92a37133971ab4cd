import { afterEach, describe, expect, it } from 'vitest';
import { DimseClient, type DimseClientOptions } from '../../../../src/agent/sources/dimse/dimse-client.js';
import { ConfigError, IndexerError } from '../../../../src/shared/errors.js';
import { freePort } from '../../../helpers/orthanc.js';
import { expectNoPatientData, failsWith } from './support/assertions.js';
import { startHangUpServer, startHttpLikeServer, startSilentServer, startUnacceptingPort, type TestServer } from './support/plain-servers.js';
import { startScriptedScp, type ScpScript, type ScriptedScp } from './support/scripted-scp.js';

/**
 * Every way a call can fail, each with its typed error, against real listeners: a closed port,
 * a port that never completes TCP, one that accepts and never answers, the caller's signal, and
 * dcmjs-dimse's own SCP scripted into what no test PACS can be made to do (FF01 pendings,
 * failure statuses, refused contexts, given rejections, an A-ABORT that leaves the socket open,
 * answers that never end, an unanswered release). Also: one association at a time per client.
 */
const PATIENTS = [
  { StudyInstanceUID: '1.2.840.1.1', PatientID: 'RUT-12345678', PatientName: 'SECRETO^PACIENTE', PatientBirthDate: '19611224' },
  { StudyInstanceUID: '1.2.840.1.2', PatientID: 'RUT-87654321', PatientName: 'CONFIDENCIAL^OTRA', PatientBirthDate: '19720315' },
];
const PATIENT_VALUES = PATIENTS.flatMap((p) => [p.PatientID, p.PatientName, p.PatientBirthDate]);
const CALLED = 'SCRIPTED';

const started: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
});

async function scp(script: ScpScript): Promise<ScriptedScp> {
  const server = await startScriptedScp(script);
  started.push(server);
  return server;
}

async function plain(start: () => Promise<TestServer>): Promise<TestServer> {
  const server = await start();
  started.push(server);
  return server;
}

function client(port: number, over: Partial<DimseClientOptions> = {}): DimseClient {
  return new DimseClient({ host: '127.0.0.1', port, calledAet: CALLED, callingAet: 'INDEXER', connectTimeoutMs: 2000, queryDeadlineMs: 10_000, ...over });
}

describe('network failures', () => {
  it('a closed port: CONNECTION_REFUSED, for C-ECHO and C-FIND', async () => {
    const c = client(await freePort());
    for (const call of [c.echo(), c.findStudies({})]) {
      const { error } = await failsWith(call, 'CONNECTION_REFUSED');
      expect(error.code).toBe('DB_UNREACHABLE');
      expect(error.message).toMatch(/SCRIPTED@127\.0\.0\.1:\d+ \(calling AE INDEXER\): connection refused/);
    }
  });

  it('a host name that does not resolve: HOST_UNREACHABLE', async () => {
    await failsWith(client(104, { host: 'pacs.invalid' }).echo(), 'HOST_UNREACHABLE');
  });

  it('a connect that never completes: CONNECT_TIMEOUT at connectTimeoutMs', async () => {
    const port = await plain(startUnacceptingPort);
    const { error, ms } = await failsWith(client(port.port, { connectTimeoutMs: 400 }).echo(), 'CONNECT_TIMEOUT');
    expect(ms).toBeGreaterThanOrEqual(350);
    expect(ms).toBeLessThan(5000);
    expect(error.message).toMatch(/no TCP connection within 400 ms/);
  });

  it('a server that accepts TCP and never answers: DEADLINE_EXCEEDED, the socket closed, the next call on its own deadline', async () => {
    const silent = await plain(startSilentServer);
    const c = client(silent.port, { queryDeadlineMs: 700 });
    const { error, ms } = await failsWith(c.findStudies({}), 'DEADLINE_EXCEEDED');
    expect(ms).toBeGreaterThanOrEqual(650);
    expect(ms).toBeLessThan(4000);
    expect(error.message).toMatch(/deadline of 700 ms, while waiting for the association answer/);
    await failsWith(c.echo(), 'DEADLINE_EXCEEDED');
    expect(silent.connections).toBe(2);
    await expect.poll(() => silent.open, { timeout: 3000 }).toBe(0);
  });

  it('a server that hangs up before answering the association: CLOSED_BEFORE_ASSOCIATION (and not TLS)', async () => {
    const server = await plain(startHangUpServer);
    const { error } = await failsWith(client(server.port).findStudies({}), 'CLOSED_BEFORE_ASSOCIATION');
    expect(error.hint).toMatch(/TLS/);
    // The association attempt, then the TLS probe that found no TLS.
    expect(server.connections).toBe(2);
  });

  it('a port that speaks another protocol: PROTOCOL_ERROR', async () => {
    const server = await plain(startHttpLikeServer);
    const { error } = await failsWith(client(server.port).echo(), 'PROTOCOL_ERROR');
    expect(error.message).toMatch(/PDU of unknown type 72/);
  });

  it('TLS material Node cannot use: TLS_FAILED before any connection', async () => {
    const silent = await plain(startSilentServer);
    const garbage = { cert: Buffer.from('not a certificate'), key: Buffer.from('not a key') };
    const { error } = await failsWith(client(silent.port, { tls: garbage }).echo(), 'TLS_FAILED');
    expect(error.message).toMatch(/the TLS options are not usable: \w/);
    expect(silent.connections).toBe(0);
  });
});

describe('the caller’s signal', () => {
  const slow: ScpScript = { answers: Array.from({ length: 40 }, (_, i) => ({ ...PATIENTS[i % 2], StudyInstanceUID: `1.2.3.${i}` })), delayMs: 100 };

  it('aborts a query in flight: CALLER_ABORTED (INTERRUPTED), the association closed, the client usable', async () => {
    const server = await scp(slow);
    const c = client(server.port);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 350);
    const { error, ms } = await failsWith(c.findStudies({}, { signal: controller.signal }), 'CALLER_ABORTED');
    expect(error.code).toBe('INTERRUPTED');
    expect(ms).toBeLessThan(2000);
    expectNoPatientData(error, PATIENT_VALUES);
    await expect(c.echo()).resolves.toBeUndefined();
    expect(server.maxOpen).toBe(1);
  });

  it('passes an IndexerError reason through as is', async () => {
    const server = await scp(slow);
    const controller = new AbortController();
    const reason = new IndexerError('LOCK_BUSY', 'lock lost');
    setTimeout(() => controller.abort(reason), 200);
    await expect(client(server.port).findStudies({}, { signal: controller.signal })).rejects.toBe(reason);
  });

  it('an already aborted signal, or one fired while queued, opens no association', async () => {
    const server = await scp(slow);
    const c = client(server.port);
    await failsWith(c.echo({ signal: AbortSignal.abort() }), 'CALLER_ABORTED');
    const first = c.findStudies({}, { maxAnswers: 3 });
    const controller = new AbortController();
    const queued = c.findStudies({}, { signal: controller.signal });
    controller.abort();
    const { ms } = await failsWith(queued, 'CALLER_ABORTED');
    expect(ms).toBeLessThan(200);
    await expect(first).resolves.toMatchObject({ status: 'cancelled', limited: true });
    expect(server.associations).toBe(1);
  });
});

describe('what servers answer', () => {
  it('one association at a time per client: calls queue, and each waits for the previous close', async () => {
    const server = await scp({ answers: PATIENTS, delayMs: 50 });
    const c = client(server.port);
    const results = await Promise.all([c.findStudies({}), c.echo(), c.findStudies({}), c.findStudies({ StudyDate: '20240101-' })]);
    expect(server.associations).toBe(4);
    expect(server.maxOpen).toBe(1);
    expect(results[0]).toMatchObject({ status: 'success', answers: [{ patientId: 'RUT-12345678' }, { patientId: 'RUT-87654321' }] });
  });

  it('reads every FF01 pending answer (the library alone would stop at the first)', async () => {
    const server = await scp({ answers: [...PATIENTS, { StudyInstanceUID: '1.2.840.1.3' }], pendingStatus: 0xff01 });
    const result = await client(server.port).findStudies({});
    expect(result).toMatchObject({ status: 'success', statusCode: 0 });
    expect(result.answers.map((a) => a.studyInstanceUid)).toEqual(['1.2.840.1.1', '1.2.840.1.2', '1.2.840.1.3']);
  });

  it('a failure status after some answers: failed, with the code and those answers; failureOf explains it', async () => {
    const server = await scp({ answers: PATIENTS, final: 0xa700 });
    const c = client(server.port);
    const result = await c.findStudies({});
    expect(result).toMatchObject({ status: 'failed', statusCode: 0xa700 });
    expect(result.answers).toHaveLength(2);
    const error = c.failureOf(result)!;
    expect(error.dimseCode).toBe('FIND_FAILED');
    expect(error.statusCode).toBe(0xa700);
    expect(error.message).toMatch(/status 0xA700 \(out of resources\)/);
    expectNoPatientData(error, PATIENT_VALUES);
    expect(c.failureOf({ ...result, statusCode: 0xc001 })!.message).toMatch(/0xC001 \(unable to process\)/);
    expect(c.failureOf({ ...result, status: 'success', statusCode: 0 })).toBeNull();
  });

  it('a server that answers Success but keeps nothing back is success; one that cancels is cancelled', async () => {
    expect(await client((await scp({ answers: PATIENTS, final: 0xfe00 })).port).findStudies({})).toMatchObject({ status: 'cancelled', statusCode: 0xfe00, limited: false });
    expect(await client((await scp({ answers: PATIENTS, final: 0x0001 })).port).findStudies({})).toMatchObject({ status: 'success', statusCode: 1 });
  });

  it('maxAnswers sends one C-CANCEL and keeps no later answer', async () => {
    const server = await scp({ answers: Array.from({ length: 30 }, (_, i) => ({ StudyInstanceUID: `1.2.4.${i}` })), delayMs: 20 });
    const result = await client(server.port).findStudies({}, { maxAnswers: 5 });
    expect(result).toMatchObject({ status: 'cancelled', statusCode: 0xfe00, limited: true });
    expect(result.answers.map((a) => a.studyInstanceUid)).toEqual(['1.2.4.0', '1.2.4.1', '1.2.4.2', '1.2.4.3', '1.2.4.4']);
    expect(server.cancels).toBe(1);
  });

  it('counts answers without a usable StudyInstanceUID as dropped', async () => {
    const server = await scp({ answers: [{ PatientID: 'X1' }, PATIENTS[0]!, { StudyInstanceUID: '' }, { StudyInstanceUID: ['1.2', '1.3'] }] });
    const result = await client(server.port).findStudies({});
    expect(result).toMatchObject({ status: 'success', dropped: 3 });
    expect(result.answers.map((a) => a.studyInstanceUid)).toEqual(['1.2.840.1.1']);
  });

  it('answers that stop without a final status: DEADLINE_EXCEEDED naming how many came', async () => {
    const server = await scp({ answers: PATIENTS, final: null });
    const { error } = await failsWith(client(server.port, { queryDeadlineMs: 800 }).findStudies({}), 'DEADLINE_EXCEEDED');
    expect(error.message).toMatch(/waiting for the C-FIND answers \(2 received\)/);
    expectNoPatientData(error, PATIENT_VALUES);
  });

  it('an A-ABORT after answers, with the socket left open: PEER_ABORTED at once', async () => {
    const server = await scp({ answers: PATIENTS, abortAfterAnswers: true });
    const { error, ms } = await failsWith(client(server.port, { queryDeadlineMs: 30_000 }).findStudies({}), 'PEER_ABORTED');
    expect(ms).toBeLessThan(3000);
    expect(error.code).toBe('DB_PRIVILEGES');
    expectNoPatientData(error, PATIENT_VALUES);
  });

  it('a connection dropped after answers, without a final status: CONNECTION_LOST naming how many came', async () => {
    const server = await scp({ answers: PATIENTS, dropAfterAnswers: true });
    const { error, ms } = await failsWith(client(server.port, { queryDeadlineMs: 30_000 }).findStudies({}), 'CONNECTION_LOST');
    expect(ms).toBeLessThan(3000);
    expect(error.message).toMatch(/closed while waiting for the C-FIND answers \(2 received\)/);
    expectNoPatientData(error, PATIENT_VALUES);
  });

  it('a release never answered does not lose a complete result', async () => {
    const server = await scp({ answers: PATIENTS, ignoreRelease: true });
    const result = await client(server.port, { queryDeadlineMs: 800 }).findStudies({});
    expect(result).toMatchObject({ status: 'success', answers: [{ studyInstanceUid: '1.2.840.1.1' }, { studyInstanceUid: '1.2.840.1.2' }] });
  });

  it('C-ECHO answered with a failure: ECHO_FAILED with the status', async () => {
    const { error } = await failsWith(client((await scp({ echoStatus: 0x0110 })).port).echo(), 'ECHO_FAILED');
    expect(error.statusCode).toBe(0x0110);
    expect(error.message).toMatch(/status 0x0110/);
  });

  it('a server that refuses the C-FIND presentation context: SERVICE_NOT_ACCEPTED; C-ECHO still works', async () => {
    const server = await scp({ association: 'refuse-find' });
    await failsWith(client(server.port).findStudies({}), 'SERVICE_NOT_ACCEPTED');
    await expect(client(server.port).echo()).resolves.toBeUndefined();
  });

  it('names each standard rejection', async () => {
    const cases: [[number, number, number], string][] = [
      [[1, 1, 3], 'REJECTED_CALLING_AE'], [[1, 1, 7], 'REJECTED_CALLED_AE'], [[2, 3, 1], 'REJECTED_BUSY'], [[2, 3, 2], 'REJECTED_BUSY'],
      [[1, 1, 1], 'REJECTED'], [[1, 2, 2], 'REJECTED'],
    ];
    for (const [reject, code] of cases) {
      const { error } = await failsWith(client((await scp({ association: { reject } })).port).echo(), code as never);
      expect(error.rejection).toEqual({ result: reject[0], source: reject[1], reason: reject[2] });
      expect(error.message).toContain(`(result ${reject[0]}, source ${reject[1]}, reason ${reject[2]})`);
    }
  });
});

describe('bad input', () => {
  it('refuses invalid options with a ConfigError naming the option', () => {
    const base: DimseClientOptions = { host: '127.0.0.1', port: 104, calledAet: 'PACS', callingAet: 'INDEXER' };
    const bad: [Partial<DimseClientOptions>, RegExp][] = [
      [{ port: 0 }, /port/], [{ port: 65_536 }, /port/], [{ port: 1.5 }, /port/], [{ host: '' }, /host/], [{ host: 'a b' }, /host/],
      [{ calledAet: 'A'.repeat(17) }, /calledAet/], [{ calledAet: '    ' }, /calledAet/], [{ callingAet: 'A\\B' }, /callingAet/],
      [{ callingAet: 'ÑANDÚ' }, /callingAet/], [{ callingAet: 'A\0' }, /callingAet/], [{ connectTimeoutMs: 0 }, /connectTimeoutMs/],
      [{ queryDeadlineMs: Number.NaN }, /queryDeadlineMs/], [{ tls: { cert: Buffer.from('x') } }, /tls.cert and tls.key/],
      [{ tls: { ca: 'PEM' as unknown as Buffer } }, /tls.ca/],
    ];
    for (const [over, message] of bad) expect(() => new DimseClient({ ...base, ...over }), JSON.stringify(over)).toThrow(ConfigError);
    for (const [over, message] of bad) expect(() => new DimseClient({ ...base, ...over })).toThrow(message);
  });

  it('refuses invalid matching keys and maxAnswers before connecting', async () => {
    const silent = await plain(startSilentServer);
    const c = client(silent.port);
    await failsWith(c.findStudies({ StudyDate: '20230230' }), 'INVALID_QUERY');
    await failsWith(c.findStudies({}, { maxAnswers: 0 }), 'INVALID_QUERY');
    await failsWith(c.findStudies({ PatientID: 'SECRETO\0' }), 'INVALID_QUERY');
    expect(silent.connections).toBe(0);
  });
});
