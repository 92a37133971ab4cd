import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueCount, stateValue, writeSiteConfig } from '../agent/support/agent-harness.js';
import { FaultLedger, describeRun } from './support/agent-runs.js';
import { FAULT_CENTER, PATIENT_HTTP, createFaultBed, expectDrained, expectReceiverEqualsSource, type FaultBed } from './support/fault-bed.js';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.js';
import { faultSeed } from './support/prng.js';

/**
 * The agent verifies the receiver's certificate: a receiver behind HTTPS with a self-signed
 * certificate is refused (clear error, non-zero exit, nothing acknowledged), also with
 * NODE_TLS_REJECT_UNAUTHORIZED=0; it is accepted with http.ca_file; no setting turns checking off.
 */
const ledger = new FaultLedger('agent-tls');
const seed = faultSeed(0x5eed_0604);
// A certificate problem is permanent: one attempt, the URL named, not retried.
const CERT_ERROR = /cannot be used: its TLS certificate is not trusted \((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)\); not retried/;

describe('agent TLS: the receiver certificate is verified', { timeout: 120_000 }, () => {
  let bed: FaultBed;
  let tlsProxy: FaultProxy;
  let certDir: string;
  let certFile: string;
  const config = (extra: Record<string, unknown> = {}) =>
    writeSiteConfig(bed.site, { url: tlsProxy.url, key: bed.key, read_chunk: 40, batch_size: 20, http: { ...PATIENT_HTTP, retries: 1, ...extra } }, FAULT_CENTER);

  beforeAll(async () => {
    certDir = mkdtempSync(join(tmpdir(), 'fault-tls-'));
    certFile = join(certDir, 'cert.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(certDir, 'key.pem'), '-out', certFile,
      '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    ], { stdio: 'ignore' });
    bed = await createFaultBed('fault_tls', seed);
    tlsProxy = await startFaultProxy(bed.receiver.base, { key: readFileSync(join(certDir, 'key.pem'), 'utf8'), cert: readFileSync(certFile, 'utf8') });
    await bed.writer.addStudies(40);
    // The initial load goes over plain HTTP; the TLS cases then sync the changes.
    expect((await ledger.run(['initial'], bed.dir)).code).toBe(0);
  });
  afterAll(async () => {
    ledger.collect(bed?.receiver.logLines.join('\n') ?? '');
    await tlsProxy?.close();
    await bed?.close();
    rmSync(certDir, { recursive: true, force: true });
    console.log(ledger.summary({ seed }));
  });

  it.each([
    ['by default', {}],
    ['even with NODE_TLS_REJECT_UNAUTHORIZED=0', { NODE_TLS_REJECT_UNAUTHORIZED: '0' }],
  ])('a self-signed certificate is refused %s: exit 6, named, nothing acknowledged', async (_name, env) => {
    ledger.counts.cases += 1;
    await bed.writer.churn(15);
    const backlog = await queueCount(bed.site.conn);
    const acked = await stateValue(bed.site.conn, 'sync.last_ack_seq');
    const r = await ledger.run(['sync'], config(), env);
    expect(r.code, describeRun(r)).toBe(6);
    expect(r.stderr).toMatch(CERT_ERROR);
    expect(tlsProxy.counts.requests).toBe(0);
    expect(await queueCount(bed.site.conn)).toBe(backlog);
    expect(await stateValue(bed.site.conn, 'sync.last_ack_seq')).toBe(acked);
  });

  it('check reports the refused certificate (non-zero exit)', async () => {
    ledger.counts.cases += 1;
    const r = await ledger.run(['check'], config());
    expect(r.code, describeRun(r)).toBe(6);
    expect(r.stdout).toMatch(/FAIL\s+receiver https:\/\/127\.0\.0\.1:\d+: .*(SELF_SIGNED|UNABLE_TO_VERIFY)/);
  });

  it('no setting turns verification off: such keys are refused at start (exit 2)', async () => {
    ledger.counts.cases += 1;
    for (const extra of [{ reject_unauthorized: false }, { insecure: true }, { verify: false }]) {
      const r = await ledger.run(['sync'], config(extra));
      expect(r.code, describeRun(r)).toBe(2);
    }
    expect(tlsProxy.counts.requests).toBe(0);
  });

  it('with http.ca_file naming the CA, the same receiver is accepted and the changes arrive', async () => {
    ledger.counts.cases += 1;
    const dir = config({ ca_file: certFile });
    const checked = await ledger.run(['check'], dir);
    expect(checked.code, checked.stdout + describeRun(checked)).toBe(0);
    const r = await ledger.run(['sync'], dir);
    expect(r.code, describeRun(r)).toBe(0);
    expect(tlsProxy.counts.forwarded).toBeGreaterThan(0);
    await expectDrained(bed.site.conn);
    await expectReceiverEqualsSource(ledger, bed.receiver.base, bed.token, bed.writer, bed.site.conn);
  });

  it('no log line carries a patient name, ID or birth date', () => {
    ledger.counts.cases += 1;
    expect(ledger.lines.length).toBeGreaterThan(0);
    expect(bed.ids.findLeaks(ledger.lines)).toEqual([]);
  });
});
