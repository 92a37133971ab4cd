import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDicomService, type DicomService, type DicomServiceSettings } from '../../../src/receiver/dimse/dicom-server.js';
import { createLogger } from '../../../src/shared/logger.js';
import { echoscu, errorCommentOf, findscu, INDEX_AET, startDicomIndex, WORKSTATION, type DicomIndex } from './dimse-harness.js';
import { associateRq, explicitElement, findCommand, openFind, pdata, pdu, RawAssociation, VERIFICATION } from './raw-dimse.js';

/**
 * Hostile clients must not crash, stall or bloat the DICOM service: lying PDU lengths, endless
 * messages, silent and trickling connections, floods of connections, identifiers that do not parse,
 * wrong VRs, sequences nested without end, huge UID lists and values. After each, a normal query works.
 */
let x: DicomIndex;
let port: number;
let service: DicomService;

beforeAll(async () => {
  x = await startDicomIndex('rx_dimse_hostile');
  const settings: DicomServiceSettings = {
    host: '127.0.0.1', port: 0, aet: INDEX_AET, maxResults: 1000, maxAssociations: 4, associationTimeoutMs: 1000, idleTimeoutMs: 1500,
  };
  service = await startDicomService({ store: x.s.rx.store, clients: x.clients, log: createLogger({ level: 'silent' }) }, settings);
  port = service.port;
});
afterAll(async () => {
  await service?.close(100);
  await x?.close();
});

async function stillServes(): Promise<void> {
  expect((await echoscu(port)).code).toBe(0);
  const r = await findscu({ port, keys: ['QueryRetrieveLevel=STUDY', 'PatientID=12.345.678-5', 'StudyInstanceUID'] });
  expect(r.status).toBe('0000');
  expect(r.answers.length).toBeGreaterThan(0);
}

/** Sends one C-FIND with these identifier bytes on an accepted association; the statuses answered. */
async function find(identifier: Buffer): Promise<{ statuses: number[]; closed: boolean; a: RawAssociation }> {
  const a = await openFind(port, WORKSTATION, INDEX_AET);
  await a.send(pdata(1, true, true, findCommand(7)));
  await a.send(pdata(1, false, true, identifier));
  const until = Date.now() + 5000;
  while (!a.closed && Date.now() < until && !a.statuses().some((s) => s !== 0xff00)) await new Promise((r) => setTimeout(r, 20));
  return { statuses: a.statuses(), closed: a.closed, a };
}

const level = explicitElement('00080052', 'CS', Buffer.from('STUDY '));

describe('the upper layer', () => {
  it('a PDU announcing 1 GiB: closed at its header, nothing buffered', async () => {
    const before = process.memoryUsage().rss;
    const a = new RawAssociation(port);
    await a.ready();
    const header = Buffer.from([0x01, 0, 0x40, 0, 0, 0]);
    a.socket.write(header);
    const junk = Buffer.alloc(1024 * 1024, 0x41);
    for (let i = 0; i < 20 && !a.closed; i++) a.socket.write(junk);
    expect(await a.closedWithin(2000)).toBe(true);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
    await stillServes();
  });

  it('an unknown PDU type, and garbage after a valid association: closed', async () => {
    const a = new RawAssociation(port);
    await a.ready();
    await a.send(Buffer.from([0x99, 0, 0, 0, 0, 2, 1, 2]));
    expect(await a.closedWithin(2000)).toBe(true);
    const b = await openFind(port, WORKSTATION, INDEX_AET);
    await b.send(pdu(0x04, Buffer.from([0, 0, 0, 9, 1])));
    expect(await b.closedWithin(2000)).toBe(true);
    await stillServes();
  });

  it('a DIMSE message past 1 MiB over many small PDUs: closed', async () => {
    const a = await openFind(port, WORKSTATION, INDEX_AET);
    await a.send(pdata(1, true, true, findCommand(3)));
    const chunk = Buffer.alloc(16_000, 0x20);
    for (let i = 0; i < 80 && !a.closed; i++) a.socket.write(pdata(1, false, false, chunk));
    expect(await a.closedWithin(2000)).toBe(true);
    await stillServes();
  });

  it('a silent connection, and an A-ASSOCIATE-RQ trickled a byte at a time: closed by the association timeout', async () => {
    const silent = new RawAssociation(port);
    await silent.ready();
    const slow = new RawAssociation(port);
    await slow.ready();
    const rq = associateRq(WORKSTATION, INDEX_AET, [VERIFICATION]);
    const trickle = setInterval(() => {
      const next = rq.subarray(0, 1);
      if (!slow.closed) slow.socket.write(next);
    }, 200);
    try {
      expect(await silent.closedWithin(4000)).toBe(true);
      expect(await slow.closedWithin(4000)).toBe(true);
    } finally {
      clearInterval(trickle);
    }
    await stillServes();
  });

  it('an association that goes quiet is aborted after the idle timeout', async () => {
    const a = await openFind(port, WORKSTATION, INDEX_AET);
    expect(await a.closedWithin(5000)).toBe(true);
    expect(a.pdus.some((p) => p.type === 0x07)).toBe(true);
  });

  it('200 connections at once: past twice the cap closed on accept, the others rejected or timed out; then served again', async () => {
    const sockets = Array.from({ length: 200 }, () => connect(port, '127.0.0.1').on('error', () => undefined));
    let closedEarly = 0;
    for (const s of sockets) s.on('close', () => { closedEarly += 1; });
    await new Promise((r) => setTimeout(r, 500));
    expect(closedEarly).toBeGreaterThanOrEqual(190);
    for (const s of sockets) s.destroy();
    await new Promise((r) => setTimeout(r, 100));
    await stillServes();
  });

  it('a C-FIND sent before its association was accepted ends the association', async () => {
    const a = new RawAssociation(port);
    await a.ready();
    await a.send(Buffer.concat([associateRq(WORKSTATION, INDEX_AET, ['1.2.840.10008.5.1.4.1.2.2.1']), pdata(1, true, true, findCommand(1)), pdata(1, false, true, level)]));
    expect(await a.closedWithin(3000)).toBe(true);
    expect(a.statuses()).toEqual([]);
  });
});

describe('identifiers', () => {
  it('an element running past the end: A900, no answers, the association goes on', async () => {
    const truncated = Buffer.concat([level, explicitElement('00100010', 'PN', Buffer.from('PEREZ*')).subarray(0, 10)]);
    const r = await find(truncated);
    expect(r.statuses).toEqual([0xa900]);
    expect(r.closed).toBe(false);
    r.a.destroy();
    await stillServes();
  });

  it('a known key with the wrong VR: A900 naming it', async () => {
    const r = await find(Buffer.concat([level, explicitElement('00100010', 'US', Buffer.from([1, 2]))]));
    expect(r.statuses).toEqual([0xa900]);
    r.a.destroy();
  });

  it('sequences are walked over (any depth up to 8); deeper ones are refused A900', async () => {
    const sq = (inner: Buffer): Buffer => Buffer.concat([
      Buffer.from([0x08, 0x00, 0x32, 0x10]), Buffer.from('SQ'), Buffer.alloc(2), Buffer.from([0xff, 0xff, 0xff, 0xff]),
      Buffer.from([0xfe, 0xff, 0x00, 0xe0, 0xff, 0xff, 0xff, 0xff]), inner, Buffer.from([0xfe, 0xff, 0x0d, 0xe0, 0, 0, 0, 0]),
      Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]),
    ]);
    let nested = explicitElement('00080100', 'SH', Buffer.from('CODE'));
    for (let i = 0; i < 3; i++) nested = sq(nested);
    const ok = await find(Buffer.concat([level, nested, explicitElement('00100020', 'LO', Buffer.from('123456785 ')), explicitElement('0020000D', 'UI', Buffer.alloc(0))]));
    expect(ok.statuses.at(-1)).toBe(0x0000);
    expect(ok.statuses.filter((s) => s === 0xff00).length).toBeGreaterThan(0);
    ok.a.destroy();
    for (let i = 0; i < 20; i++) nested = sq(nested);
    const deep = await find(Buffer.concat([level, nested]));
    deep.a.destroy();
    expect(deep.statuses).toEqual([0xa900]);
    await stillServes();
  });

  it('5000 UIDs: refused C000 (at most 1000), the answer says so without quoting them', async () => {
    const uids = Array.from({ length: 5000 }, (_, i) => `1.2.826.0.1.${i}`).join('\\');
    const r = await findscu({ port, keys: ['QueryRetrieveLevel=STUDY', `StudyInstanceUID=${uids}`], extra: ['-xi'] });
    expect(r.status).toBe('c000');
    expect(errorCommentOf(r.output)).toBe('StudyInstanceUID lists at most 1000 UIDs');
  });

  it('a 60,000-character name in Implicit VR: refused C000 as too long', async () => {
    const r = await findscu({ port, keys: ['QueryRetrieveLevel=STUDY', `PatientName=${'Ñ'.repeat(60_000)}`], extra: ['-xi'] });
    expect(r.status).toBe('c000');
    expect(errorCommentOf(r.output)).toMatch(/^PatientName is too long/);
  });
});
