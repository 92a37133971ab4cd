import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStateFile, readStateFile } from '../../../../src/agent/sources/orthanc/state-file.js';
import { acquireStateLock } from '../../../../src/agent/sources/file-state/state-lock.js';
import { StudyIndex } from '../../../../src/agent/sources/orthanc/study-index.js';

describe('Orthanc state file, study index and lock', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'orthanc-state-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('persists serialised updates atomically, leaving no temporary file', async () => {
    const path = join(dir, 'sub', 'state.json');
    const state = await openStateFile(path);
    expect(state.state.since).toBe(0);
    await Promise.all(Array.from({ length: 20 }, (_, i) => state.update((s) => {
      s.version_high = i + 1;
    })));
    await state.update((s) => {
      s.since = 77;
      s.initial.last_id = 'abc';
    });
    const again = await readStateFile(path);
    expect(again).toMatchObject({ since: 77, version_high: 20, initial: { last_id: 'abc', done: false } });
    expect(readdirSync(join(dir, 'sub'))).toEqual(['state.json']);
  });

  it('refuses a corrupt state file rather than starting over', async () => {
    const path = join(dir, 'state.json');
    writeFileSync(path, '{"since": 12');
    await expect(readStateFile(path)).rejects.toMatchObject({ code: 'STATE_FILE_IO' });
  });

  it('reloads the index, ignoring a torn last line, and forgets removed studies', async () => {
    const path = join(dir, 'index.jsonl');
    const index = await StudyIndex.open(path);
    index.remember([{ id: 'o1', iuid: '1.1' }, { id: 'o2', iuid: '1.2' }, { id: 'o3', iuid: '1.3' }]);
    index.remember([{ id: 'o1', iuid: '1.1' }]);
    index.forget(['o2', 'unknown']);
    appendFileSync(path, '{"id":"o4","iu');
    const reloaded = await StudyIndex.open(path);
    expect([...reloaded.ids()].sort()).toEqual(['o1', 'o3']);
    expect(reloaded.iuidOf('o3')).toBe('1.3');
    expect(readFileSync(path, 'utf8').split('\n').filter((l) => l.includes('"o1"'))).toHaveLength(1);
  });

  it('lets one holder at a time take the lock, and takes over a dead holder', async () => {
    const stateFile = join(dir, 'state.json');
    const lock = await acquireStateLock(stateFile);
    await expect(acquireStateLock(stateFile)).rejects.toMatchObject({ code: 'LOCK_BUSY' });
    await lock.release();
    expect(existsSync(`${stateFile}.lock`)).toBe(false);
    writeFileSync(`${stateFile}.lock`, '999999999\n');
    const taken = await acquireStateLock(stateFile);
    expect(readFileSync(`${stateFile}.lock`, 'utf8').trim()).toBe(String(process.pid));
    await taken.release();
  });
});
