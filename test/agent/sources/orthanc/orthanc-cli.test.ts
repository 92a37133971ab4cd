import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCentralReceiver, type CentralReceiver } from '../../../helpers/central-receiver.js';
import { startOrthanc, type OrthancServer } from '../../../helpers/orthanc.js';
import { runCli } from '../../support/agent-harness.js';
import { loadStudies, makeStudySpecs, requireDicomTools } from './support/dicom-factory.js';
import { CENTER, KEY, orthancContent, receiverContent } from './support/orthanc-harness.js';

/** `source: orthanc` through the built CLI, as a centre running Orthanc configures it. */
describe('indexer with source orthanc (built CLI, real Orthanc with basic auth)', () => {
  let orthanc: OrthancServer;
  let receiver: CentralReceiver;
  let dir: string;

  beforeAll(async () => {
    requireDicomTools();
    dir = mkdtempSync(join(tmpdir(), 'orthanc-cli-'));
    orthanc = await startOrthanc({ users: { indexer: 's3cret' } });
    receiver = await startCentralReceiver('orthanc_cli', { [CENTER]: KEY });
    await loadStudies(orthanc, makeStudySpecs(12, 'C'), join(dir, 'dicom'));
    await orthanc.waitStable();
    // The login:password@host form Orthanc users already write.
    const url = orthanc.url.replace('http://', 'http://indexer:s3cret@');
    writeFileSync(join(dir, 'config.json'), JSON.stringify({
      source: 'orthanc', url: receiver.url, key: KEY, center: CENTER,
      orthanc: { url, state_file: join(dir, 'indexer-state.json') },
      http: { retries: 1, min_backoff_ms: 5, max_backoff_ms: 20 }, log: { format: 'json' },
    }));
  });
  afterAll(async () => {
    await receiver?.close();
    await orthanc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('install and uninstall say there is nothing to install', async () => {
    for (const cmd of ['install', 'uninstall']) {
      const res = await runCli([cmd], dir);
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout).toContain(`nothing to ${cmd} for Orthanc`);
    }
  });

  it('initial then sync leave the receiver equal to Orthanc; status reports the positions', async () => {
    const initial = await runCli(['initial'], dir);
    expect(initial.code, initial.stderr).toBe(0);
    expect(await receiverContent(receiver)).toEqual(await orthancContent(orthanc));
    const sync = await runCli(['sync'], dir);
    expect(sync.code, sync.stderr).toBe(0);
    const status = await runCli(['status'], dir);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ center: CENTER, source: 'orthanc', database: null, initial: { done: true } });
  });

  it('check reports the Orthanc version and counts and that the receiver accepts the key', async () => {
    const res = await runCli(['check'], dir);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toMatch(/reachable \(version 1\.\d+/);
    expect(res.stdout).toMatch(/12 stud/);
    expect(res.stdout).toContain('all is well');
    expect(res.stdout + res.stderr).not.toContain('s3cret');
  });

  it('a wrong Orthanc password fails check and sync clearly, without printing it', async () => {
    const bad = join(dir, 'bad');
    rmSync(bad, { recursive: true, force: true });
    mkdirSync(bad);
    const url = orthanc.url.replace('http://', 'http://indexer:wrong-pass@');
    writeFileSync(join(bad, 'config.json'), JSON.stringify({
      source: 'orthanc', url: receiver.url, key: KEY, center: CENTER,
      orthanc: { url, state_file: join(bad, 'state.json') }, log: { format: 'json' },
    }));
    const check = await runCli(['check'], bad);
    expect(check.code).not.toBe(0);
    const sync = await runCli(['sync'], bad);
    expect(sync.code).toBe(3);
    expect(check.stdout + check.stderr + sync.stderr).not.toContain('wrong-pass');
  });
});
