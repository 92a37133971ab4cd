import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrthancClient } from '../../../../src/agent/sources/orthanc/orthanc-client.js';
import { orthancCheck, orthancCheckLines } from '../../../../src/agent/sources/orthanc/orthanc-check.js';
import { runInitialLoad } from '../../../../src/agent/pipeline/initial-load.js';
import { startCentralReceiver, type CentralReceiver } from '../../../helpers/central-receiver.js';
import { freePort, startOrthanc, type OrthancServer } from '../../../helpers/orthanc.js';
import { loadStudies, makeStudySpecs, requireDicomTools } from './support/dicom-factory.js';
import { CENTER, KEY, openSource, orthancContent, passDeps, quietProgress, receiverContent, receiverDelivery } from './support/orthanc-harness.js';

/** An Orthanc with basic auth: the login:password@ URL form, wrong credentials, and `check`. */
describe('Orthanc basic auth and check (real Orthanc)', () => {
  const PASSWORD = 'Sécret:1@x';
  let orthanc: OrthancServer;
  let receiver: CentralReceiver;
  let dir: string;
  const urlWith = (login: string, password: string) =>
    `http://${encodeURIComponent(login)}:${encodeURIComponent(password)}@127.0.0.1:${orthanc.httpPort}/`;

  beforeAll(async () => {
    requireDicomTools();
    dir = mkdtempSync(join(tmpdir(), 'orthanc-auth-'));
    orthanc = await startOrthanc({ users: { alice: PASSWORD } });
    receiver = await startCentralReceiver('orthanc_auth_check', { [CENTER]: KEY });
    await loadStudies(orthanc, makeStudySpecs(3, 'U'), join(dir, 'dicom'));
    await orthanc.waitStable();
  });
  afterAll(async () => {
    await receiver?.close();
    await orthanc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('check reports the version and counts through login:password@ in the URL', async () => {
    const result = await orthancCheck(new OrthancClient({ url: urlWith('alice', PASSWORD) }));
    const system = await orthanc.rest<{ Version: string }>('GET', '/system');
    expect(result).toMatchObject({ url: `http://127.0.0.1:${orthanc.httpPort}`, version: system.Version, name: 'indexer-test', patients: 3, studies: 3 });
    expect(result.instances).toBeGreaterThanOrEqual(3);
    expect(result.series).toBeGreaterThanOrEqual(3);
    const lines = await orthancCheckLines(new OrthancClient({ url: orthanc.url, username: 'alice', password: PASSWORD }), join(dir, 'none.json'));
    expect(lines.map((l) => [l.ok, Boolean(l.warn)])).toEqual([[true, false], [true, false], [true, true]]);
    expect(lines[1]!.text).toContain('3 studies');
  });

  it('a wrong password fails clearly, without printing it', async () => {
    const err = await orthancCheck(new OrthancClient({ url: urlWith('alice', 'wrong-pass') })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DB_PRIVILEGES' });
    expect((err as Error).message).toContain('refused the credentials (HTTP 401)');
    expect((err as Error).message).not.toContain('wrong-pass');
    const noLogin = await orthancCheck(new OrthancClient({ url: orthanc.url })).catch((e: unknown) => e);
    expect(noLogin).toMatchObject({ code: 'DB_PRIVILEGES', hint: expect.stringContaining('requires a login') });
    const lines = await orthancCheckLines(new OrthancClient({ url: urlWith('alice', 'wrong-pass') }), join(dir, 'none.json'));
    expect(lines).toEqual([expect.objectContaining({ ok: false, exit: 3 })]);
  });

  it('an Orthanc that does not answer is reported as unreachable', async () => {
    const port = await freePort();
    await expect(orthancCheck(new OrthancClient({ url: `http://127.0.0.1:${port}` }))).rejects.toMatchObject({ code: 'DB_UNREACHABLE' });
  });

  it('the source loads through basic auth', async () => {
    const source = await openSource(new OrthancClient({ url: urlWith('alice', PASSWORD) }), join(dir, 'state.json'));
    const summary = await runInitialLoad(passDeps(source, receiverDelivery(receiver), 2), quietProgress, false);
    await source.close();
    expect(summary).toMatchObject({ ok: true, read: 3 });
    expect(await receiverContent(receiver)).toEqual(await orthancContent(orthanc));
  });
});
