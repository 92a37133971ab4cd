import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/lib/free-port.js';
import { sendJson, startHostileServer, type HostileServer } from '../../helpers/hostile-server.js';
import { runCli } from '../support/agent-harness.js';

/**
 * Operators embed logins in URLs. `indexer config` and `indexer check` print URLs: never the
 * credentials in them. `check` notes a plain-http receiver on another host.
 */
const SECRETS = ['url-pw-1', 'ws-pw-2', 'orthanc-pw-3', 'db-pw-4', 'centre-key-5', 'orthanc-pw-6'];

function site(config: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'indexer-mask-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  writeFileSync(join(dir, 'server.json'), JSON.stringify({ server: '000' }));
  return dir;
}

describe('credentials are masked wherever the agent prints a URL', () => {
  const dirs: string[] = [];
  let server: HostileServer | undefined;
  afterEach(async () => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    await server?.close();
    server = undefined;
  });

  it('`indexer config` shows no password, key or URL login', async () => {
    const dir = site({
      url: 'https://alice:url-pw-1@receiver.example.org',
      webservice_url: 'https://bob:ws-pw-2@legacy.example.org/api/v1/register',
      key: 'centre-key-5',
      database: { host: '127.0.0.1', user: 'indexer', password: 'db-pw-4', name: 'pacsdb' },
      orthanc: { url: 'http://orth:orthanc-pw-3@127.0.0.1:8042', password: 'orthanc-pw-6' },
    });
    dirs.push(dir);
    const r = await runCli(['config'], dir);
    expect(r.code, r.stderr).toBe(0);
    for (const s of SECRETS) expect(r.stdout).not.toContain(s);
    const shown = JSON.parse(r.stdout) as { url: string; webservice_url: string; orthanc: { url: string }; http: Record<string, unknown> };
    expect(shown.url).toBe('https://********@receiver.example.org');
    expect(shown.webservice_url).toBe('https://********@legacy.example.org/api/v1/register');
    expect(shown.orthanc.url).toBe('http://********@127.0.0.1:8042');
    // The new limits are part of the effective configuration.
    expect(shown.http).toMatchObject({ deadline_ms: 120000, max_response_bytes: 33554432 });
  });

  it('a refused URL value is shown without its login (exit 2)', async () => {
    const dir = site({ url: 'ftp://alice:url-pw-1@receiver.example.org' });
    dirs.push(dir);
    const r = await runCli(['config'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/key "url" has value "ftp:\/\/\*{8}@receiver\.example\.org"/);
    expect(r.stderr).not.toContain('url-pw-1');
  });

  it('`indexer check` prints the receiver without its login and notes plain http to another host', async () => {
    const dir = site({
      url: 'http://alice:url-pw-1@receiver.invalid:8080', key: 'centre-key-5',
      database: { host: '127.0.0.1', port: await freePort(), user: 'indexer', password: 'db-pw-4', name: 'pacsdb' },
      log: { format: 'json' },
    });
    dirs.push(dir);
    const r = await runCli(['check'], dir);
    expect(r.code).not.toBe(0);
    for (const s of [...SECRETS, 'alice']) {
      expect(r.stdout).not.toContain(s);
      expect(r.stderr).not.toContain(s);
    }
    expect(r.stdout).toMatch(/note\s+url http:\/\/receiver\.invalid:8080\/? is plain http to another host/);
    expect(r.stdout).toMatch(/FAIL\s+receiver http:\/\/receiver\.invalid:8080.*ENOTFOUND.*not retried/);
  });

  it('`indexer check` against a wrong path names the URL (without login) and the receiver message', async () => {
    server = await startHostileServer((_req, res) => sendJson(res, 404, { error: 'not_found', message: 'no such route' }));
    const dir = site({
      url: `${server.url.replace('http://', 'http://alice:url-pw-1@')}/index`, key: 'centre-key-5',
      database: { host: '127.0.0.1', port: await freePort(), user: 'indexer', password: 'db-pw-4', name: 'pacsdb' },
    });
    dirs.push(dir);
    const r = await runCli(['check'], dir);
    expect(r.stdout).not.toContain('url-pw-1');
    expect(r.stdout).not.toContain('alice');
    expect(r.stdout).toContain(`${server.url}/index/api/v2/centers/000/studies`);
    expect(r.stdout).toContain('no such route');
    expect(r.stdout).toMatch(/check url/);
    // Loopback over plain http is not worth a note.
    expect(r.stdout).not.toMatch(/plain http/);
  });
});
