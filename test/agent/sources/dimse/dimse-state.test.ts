import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireStateLock } from '../../../../src/agent/sources/file-state/state-lock.js';
import { emptyDimseState, openDimseState, readDimseState } from '../../../../src/agent/sources/dimse/dimse-state.js';

const dir = mkdtempSync(join(tmpdir(), 'dimse-state-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the DICOM network source's state file", () => {
  it('a missing file is a fresh state; a written one reads back', async () => {
    const path = join(dir, 'fresh.json');
    expect(await readDimseState(path)).toEqual(emptyDimseState());
    const state = await openDimseState(path);
    await state.update((s) => {
      s.version_high = 7;
      s.initial.next_day = '2026-11-30';
    });
    expect((await readDimseState(path)).initial.next_day).toBe('2026-11-30');
  });

  const wrong: [string, unknown][] = [
    ['an empty object', {}],
    ['a negative version', { ...emptyDimseState(), version_high: -7 }],
    ['initial not an object', { ...emptyDimseState(), initial: 'x' }],
    ['absent a list', { ...emptyDimseState(), absent: [1, 2] }],
    ['a day that is no day', { ...emptyDimseState(), warm: { ...emptyDimseState().warm, next_day: 'yesterday' } }],
  ];
  for (const [what, content] of wrong) {
    it(`${what}: refused (STATE_FILE_IO), never a silent restart`, async () => {
      const path = join(dir, `${what.replace(/\W+/g, '-')}.json`);
      writeFileSync(path, JSON.stringify(content));
      await expect(readDimseState(path)).rejects.toMatchObject({ code: 'STATE_FILE_IO', message: expect.stringMatching(/is not one this agent wrote/) });
    });
  }

  it('a file that is not JSON: refused without quoting its bytes', async () => {
    const path = join(dir, 'garbage.json');
    writeFileSync(path, 'SECRET-NAME^PATIENT garbage');
    const err = await readDimseState(path).catch((e: Error & { cause?: unknown }) => e);
    expect(err).toMatchObject({ code: 'STATE_FILE_IO' });
    expect(JSON.stringify({ message: (err as Error).message, cause: String((err as { cause?: unknown }).cause ?? '') })).not.toContain('SECRET');
  });

  it("the lock makes the state file's folder; a folder that cannot be made is STATE_FILE_IO naming the path", async () => {
    const lock = await acquireStateLock(join(dir, 'new', 'folder', 'state.json'));
    await lock.release();
    writeFileSync(join(dir, 'a-file'), 'x');
    await expect(acquireStateLock(join(dir, 'a-file', 'state.json'))).rejects.toMatchObject({
      code: 'STATE_FILE_IO', message: expect.stringMatching(/cannot create the lock file .*a-file\/state\.json\.lock \((ENOTDIR|EEXIST)\)/),
    });
  });
});
