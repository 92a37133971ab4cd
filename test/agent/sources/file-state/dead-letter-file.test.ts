import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listDeadLetterFile, upsertDeadLetterLines } from '../../../../src/agent/sources/file-state/dead-letter-file.js';
import type { StudyRecord } from '../../../../src/shared/study-record.js';

const record = (iuid: string, seq: number) => ({ study_iuid: iuid, source_seq: seq } as unknown as StudyRecord);

/** The Orthanc agent's dead-letter file keeps one line per study, as the dcm4chee table does. */
describe('Orthanc dead-letter file: one line per study', () => {
  it('a study rejected again replaces its line (latest version and reason, first `at`, same id); duplicates fold', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'indexer-dl-')), 'state.json.dead-letters.jsonl');
    const line = (iuid: string, seq: number, at: string) => JSON.stringify({ at, study_iuid: iuid, source_seq: seq, reason: 'old', record: record(iuid, seq) });
    writeFileSync(path, [line('1.1', 1, 'T1'), line('1.2', 2, 'T2'), line('1.1', 3, 'T3')].map((l) => `${l}\n`).join(''));
    await upsertDeadLetterLines(path, [
      { study_iuid: '1.1', source_seq: 9, reason: 'new', record: record('1.1', 9) },
      { study_iuid: '1.3', source_seq: 9, reason: 'first', record: record('1.3', 9) },
    ], 'T9');
    const { total, entries } = await listDeadLetterFile(path, { limit: 10 });
    expect(total).toBe(3);
    expect(entries.map((e) => [e.id, e.study_iuid, e.source_seq, e.reason, e.created_at])).toEqual([
      [1, '1.1', 9, 'new', 'T1'],
      [2, '1.2', 2, 'old', 'T2'],
      [3, '1.3', 9, 'first', 'T9'],
    ]);
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(3);
  });
});
