import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCentralReceiver, type CentralReceiver } from '../../../helpers/central-receiver.js';
import { freePort } from '../../../helpers/orthanc.js';
import { runCli, type CliResult } from '../../support/agent-harness.js';
import { requireDicomTools, studySpec, writeStudyFiles } from './support/dicom-files.js';
import { CENTER, daysAgo, INDEXER_AET, KEY, writeDimseConfig } from './support/dimse-site.js';
import { startPacsOrthanc, type PacsOrthanc } from './support/pacs-orthanc.js';

/**
 * `source: dimse` through the built CLI when the agent cannot start: a PACS that refuses the
 * agent's AE title or is called by the wrong one, a port nothing listens on, bad settings, the
 * legacy protocol. `check` and the pass exit non-zero with a message naming the repair (the key,
 * the AE title, host:port), quote no patient value, and send nothing.
 */
const declared = { indexer: [INDEXER_AET, '127.0.0.1', 11112] as [string, string, number] };
const output = (r: CliResult): string => `${r.stdout}\n${r.stderr}`;
const stateOf = (dir: string): Record<string, any> => JSON.parse(readFileSync(join(dir, 'dimse-state.json'), 'utf8'));

describe('refusals, closed ports and bad settings', { timeout: 120_000 }, () => {
  let pacs: PacsOrthanc;
  let receiver: CentralReceiver;
  let dir: string;
  const patient = studySpec({ patientId: 'RUT-12345678', patientName: 'SECRETO^PACIENTE', studyDate: daysAgo(0), studyTime: '101010' });
  const noPatientData = (r: CliResult): void => {
    for (const v of ['RUT-12345678', 'SECRETO', 'PACIENTE']) expect(output(r)).not.toContain(v);
  };
  // `check` probes the receiver with an empty batch: what counts is records sent.
  const sent = (): number => receiver.batchSizes().reduce((a, b) => a + b, 0);
  const config = (dimse: Record<string, unknown>, top: Record<string, unknown> = {}): void => {
    rmSync(join(dir, 'dimse-state.json'), { force: true });
    writeDimseConfig(dir, receiver.url, { port: pacs.dicomPort, aet: pacs.aet }, dimse, top);
  };

  beforeAll(async () => {
    requireDicomTools();
    dir = mkdtempSync(join(tmpdir(), 'dimse-refusals-'));
    pacs = await startPacsOrthanc({ aet: 'PACSAE', modalities: declared, checkCalledAet: true });
    receiver = await startCentralReceiver('dimse_refusals', { [CENTER]: KEY });
    await pacs.upload(writeStudyFiles(patient, join(dir, 'dicom')));
  });
  afterAll(async () => {
    await receiver?.close();
    await pacs?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a calling AE title the PACS does not know: check and initial name the repair (declare it)', async () => {
    config({ calling_aet: 'STRANGER' });
    const check = await runCli(['check'], dir);
    expect(check.code, output(check)).toBe(3);
    expect(check.stdout).toMatch(/FAIL .*PACSAE@127\.0\.0\.1:\d+ \(calling AE STRANGER\).*calling AE title not recognised/);
    expect(check.stdout).toContain("declare the agent's calling AE title");
    const initial = await runCli(['initial'], dir);
    expect(initial.code, output(initial)).toBe(3);
    expect(initial.stderr).toMatch(/indexer: .*calling AE title not recognised.*\n.*declare the agent's calling AE title/);
    expect(stateOf(dir).initial).toMatchObject({ done: false, crawled: 0 });
    expect(sent()).toBe(0);
    for (const r of [check, initial]) noPatientData(r);
  });

  it('a wrong called AE title: check and initial say dimse.called_aet is not the PACS\'s', async () => {
    config({ called_aet: 'NOTTHEPACS' });
    const check = await runCli(['check'], dir);
    expect(check.code, output(check)).toBe(3);
    expect(check.stdout).toMatch(/NOTTHEPACS@127\.0\.0\.1.*called AE title not recognised.*dimse\.called_aet is not the PACS's AE title/);
    const initial = await runCli(['initial'], dir);
    expect(initial.code, output(initial)).toBe(3);
    expect(initial.stderr).toMatch(/called AE title not recognised[^]*dimse\.called_aet is not the PACS's AE title/);
    expect(sent()).toBe(0);
    for (const r of [check, initial]) noPatientData(r);
  });

  it('a port nothing listens on: check and initial name host:port', async () => {
    const closed = await freePort();
    config({ port: closed });
    const check = await runCli(['check'], dir);
    expect(check.code, output(check)).toBe(3);
    expect(check.stdout).toMatch(new RegExp(`FAIL .*127\\.0\\.0\\.1:${closed}.*connection refused.*nothing listens on that port`));
    const initial = await runCli(['initial'], dir);
    expect(initial.code, output(initial)).toBe(3);
    expect(initial.stderr).toMatch(new RegExp(`indexer: .*127\\.0\\.0\\.1:${closed}.*connection refused`));
    expect(sent()).toBe(0);
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['dimse.called_aet empty', { called_aet: '' }, /key "dimse\.called_aet" is empty/],
    ['dimse.port 0', { port: 0 }, /key "dimse\.port" has value 0/],
    ['dimse.tls.cert_file without key_file', { tls: { cert_file: '/nonexistent/client.crt' } }, /"dimse\.tls\.cert_file" and "dimse\.tls\.key_file" go together/],
    ['dimse.history_from 2024-13-01', { history_from: '2024-13-01' }, /key "dimse\.history_from" has value "2024-13-01", expected: a date/],
    ['dimse.hot_days above the query budget', { hot_days: 500, max_queries_per_pass: 3 }, /key "dimse\.hot_days" has value 500, expected at most dimse\.max_queries_per_pass \(3\)/],
    ['dimse.tls.ca_file not PEM', { tls: { enabled: true, ca_file: '/etc/hostname' } }, /key "dimse\.tls\.ca_file" names "\/etc\/hostname", which is not PEM/],
    ['dimse.history_from after today', { history_from: '2999-01-01' }, /key "dimse\.history_from" has value "2999-01-01", expected a day on or before today/],
  ];
  for (const [what, dimse, message] of bad) {
    it(`${what}: check and initial exit 2 naming the key`, async () => {
      config(dimse);
      for (const cmd of ['check', 'initial']) {
        const r = await runCli([cmd], dir);
        expect(r.code, `${cmd}: ${output(r)}`).toBe(2);
        expect(output(r), cmd).toMatch(message);
      }
      expect(existsSync(join(dir, 'dimse-state.json')), 'a refused setting touches no state').toBe(false);
      expect(sent()).toBe(0);
    });
  }

  it('protocol legacy: sync refuses, it needs the receiver\'s days (exit 2)', async () => {
    config({}, { protocol: 'legacy', webservice_url: receiver.legacyUrl, url: '' });
    const before = receiver.requests();
    const r = await runCli(['sync'], dir);
    expect(r.code, output(r)).toBe(2);
    expect(r.stderr).toMatch(/indexer: indexer sync with source "dimse" compares each day with the receiver: it needs protocol "v2"/);
    expect(receiver.requests()).toBe(before);
  });
});
