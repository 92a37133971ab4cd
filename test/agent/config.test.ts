import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../src/agent/config.js';
import { runCli } from './support/agent-harness.js';

function site(config: unknown, server: unknown = { server: '000' }): string {
  const dir = mkdtempSync(join(tmpdir(), 'indexer-cfg-'));
  writeFileSync(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  if (server !== null) writeFileSync(join(dir, 'server.json'), JSON.stringify(server));
  return dir;
}

const LEGACY = {
  database: { host: 'pacs.local', port: '3306', user: 'indexer', password: 's3cret', name: 'pacsdb' },
  key: 'legacy-key',
  webservice_url: 'http://central.example.org:8899/api/v1/register',
};

describe('agent configuration', () => {
  it('accepts the legacy config.json and server.json unchanged', () => {
    const c = loadAgentConfig({ env: {}, cwd: site(LEGACY) });
    expect(c).toMatchObject({
      center: '000', key: 'legacy-key', url: 'http://central.example.org:8899',
      database: { host: 'pacs.local', port: 3306, user: 'indexer', password: 's3cret', name: 'pacsdb' },
      protocol: 'v2', schedule: '*/5 * * * *', batch_size: 500,
    });
  });

  it('takes a numeric centre code from server.json as text', () => {
    expect(loadAgentConfig({ env: {}, cwd: site(LEGACY, { server: 7 }) }).center).toBe('7');
  });

  it('environment beats files, flags beat environment', () => {
    const cwd = site(LEGACY);
    const env = { INDEXER_CENTER: '123', INDEXER_DB_HOST: 'envhost', INDEXER_SCHEDULE: '*/10 * * * * *', INDEXER_URL: 'https://idx.example.org' };
    const c = loadAgentConfig({ env, cwd, overrides: { center: '456' } });
    expect(c).toMatchObject({ center: '456', database: { host: 'envhost' }, schedule: '*/10 * * * * *', url: 'https://idx.example.org' });
  });

  it('reads secrets from *_FILE paths, which win over the plain variables', () => {
    const cwd = site(LEGACY);
    writeFileSync(join(cwd, 'key.txt'), 'from-file\n');
    writeFileSync(join(cwd, 'pw.txt'), 'pw-from-file');
    const c = loadAgentConfig({ env: { INDEXER_KEY: 'plain', INDEXER_KEY_FILE: join(cwd, 'key.txt'), INDEXER_DB_PASSWORD_FILE: join(cwd, 'pw.txt') }, cwd });
    expect(c.key).toBe('from-file');
    expect(c.database.password).toBe('pw-from-file');
  });

  it('a schedule node-cron cannot run is refused, naming the key and value', () => {
    for (const schedule of ['61 * * * *', '* 24 * * *', '*/5 * * * * bogus']) {
      expect(() => loadAgentConfig({ env: { INDEXER_SCHEDULE: schedule }, cwd: site(LEGACY) })).toThrow(
        new RegExp(`key "schedule" has value "${schedule.replace(/[*/]/g, (c) => `\\${c}`)}", expected: a cron expression`),
      );
    }
    expect(loadAgentConfig({ env: { INDEXER_SCHEDULE: '0 2 * * 1-5' }, cwd: site(LEGACY) }).schedule).toBe('0 2 * * 1-5');
  });

  it('reports every problem at once: unknown keys and each invalid value', () => {
    const cwd = site({ ...LEGACY, batchsize: 10, batch_size: 'lots', database: { ...LEGACY.database, port: '99999' } });
    let message = '';
    try {
      loadAgentConfig({ env: { INDEXER_SCHEDULE: '61 * * * *' }, cwd });
    } catch (err) {
      message = (err as Error).message;
    }
    for (const part of ['unknown key "batchsize"', 'key "batch_size" has value "lots"', 'key "database.port" has value 99999', 'key "schedule" has value "61 * * * *"']) {
      expect(message).toContain(part);
    }
  });

  it('a missing secret file is a configuration error', () => {
    expect(() => loadAgentConfig({ env: { INDEXER_KEY_FILE: '/nonexistent/key' }, cwd: site(LEGACY) })).toThrow(/INDEXER_KEY_FILE/);
  });
});

describe('configuration errors through the built CLI', () => {
  it('an unknown key exits 2 naming the key', async () => {
    const res = await runCli(['config'], site({ ...LEGACY, batchsize: 10 }));
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/unknown key "batchsize"/);
  });

  it('an invalid value exits 2 naming the key, the value and what was expected', async () => {
    const res = await runCli(['config'], site({ ...LEGACY, batch_size: 'lots' }));
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/key "batch_size" has value "lots", expected: a whole number from 1 to 10000/);
  });

  it('an invalid environment value exits 2 as well', async () => {
    const res = await runCli(['config'], site(LEGACY), { INDEXER_DB_PORT: '99999' });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/database.port/);
  });

  it('sync without a key refuses to start (exit 2)', async () => {
    const res = await runCli(['sync'], site({ ...LEGACY, key: '' }));
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/no centre key/);
  });

  it('`indexer config` prints the effective configuration with secrets masked', async () => {
    const res = await runCli(['config'], site(LEGACY));
    expect(res.code).toBe(0);
    const shown = JSON.parse(res.stdout) as { key: string; database: { password: string }; center: string };
    expect(shown.key).toBe('********');
    expect(shown.database.password).toBe('********');
    expect(res.stdout).not.toContain('s3cret');
    expect(shown.center).toBe('000');
  });
});

describe('shipped configuration examples', () => {
  it('config/config.json.example and the legacy-layout example both load', () => {
    const root = join(import.meta.dirname, '../..');
    const current = loadAgentConfig({ env: {}, cwd: root, configFile: 'config/config.json.example', serverFile: 'server.json.example' });
    expect(current).toMatchObject({ center: '000', protocol: 'v2', url: 'https://index.example.org' });
    const legacy = loadAgentConfig({ env: {}, cwd: root, configFile: 'config/config.legacy.json.example', serverFile: 'server.json.example' });
    expect(legacy).toMatchObject({ url: 'http://localhost:8899', database: { port: 3306 } });
  });
});
