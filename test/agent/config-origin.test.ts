import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../src/agent/config.js';
import { ConfigError } from '../../src/shared/errors.js';

function site(config: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'indexer-origin-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  writeFileSync(join(dir, 'server.json'), JSON.stringify({ server: '000' }));
  return dir;
}

const BASE = { database: { host: 'pacs.local', user: 'indexer', password: 's', name: 'pacsdb' }, key: 'k', url: 'https://central.example.org' };

function failure(load: () => unknown): ConfigError {
  try {
    load();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('the configuration was accepted');
}

/** A bad value names where it came from: the variable, the flag or the file — not always the file. */
describe('a refused configuration value names its source', () => {
  it('from the environment: names the variable, not the config file', () => {
    const dir = site(BASE);
    const err = failure(() => loadAgentConfig({ env: { INDEXER_DB_PORT: '70000' }, cwd: dir }));
    expect(err.message).toMatch(/key "database\.port" has value 70000, expected: [^;]*\(from INDEXER_DB_PORT\)/);
    expect(err.hint ?? '').not.toContain('config file');
  });

  it('from a flag: names the flag', () => {
    const err = failure(() => loadAgentConfig({ env: {}, cwd: site(BASE), overrides: { batch_size: '0' } }));
    expect(err.message).toMatch(/key "batch_size" has value 0, expected: [^;]*\(from --batch-size\)/);
  });

  it('from the file: names the file', () => {
    const dir = site({ ...BASE, database: { ...BASE.database, port: 70000 } });
    const err = failure(() => loadAgentConfig({ env: {}, cwd: dir }));
    expect(err.message).toMatch(new RegExp(`key "database\\.port" has value 70000, expected: [^;]*\\(from config file ${join(dir, 'config.json').replace(/[.\\/]/g, (c) => `\\${c}`)}\\)`));
    expect(err.hint).toContain('config file');
  });
});
