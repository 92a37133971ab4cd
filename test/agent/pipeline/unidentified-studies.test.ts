import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dcm4cheeWriter } from '../../helpers/dcm4chee-writer.js';
import { startCentralReceiver, type CentralReceiver } from '../../helpers/central-receiver.js';
import type { TestDatabase } from '../../helpers/mysql.js';
import { CENTER, KEY, createSite, runCli, writeSiteConfig } from '../support/agent-harness.js';

const warnLine = (stderr: string) =>
  stderr.split('\n').filter((l) => l.includes('studies without a study_iuid were not sent')).map((l) => JSON.parse(l) as Record<string, unknown>);

/**
 * A study with an empty study_iuid cannot be identified at the receiver: it is neither sent nor a
 * dead letter. It must not vanish silently: each pass that meets it warns with its primary key
 * (no patient data), and `status` counts such studies in the PACS and names a few.
 */
describe('studies without a study_iuid', () => {
  let db: TestDatabase;
  let receiver: CentralReceiver;
  let dir: string;
  let blank: number;

  beforeAll(async () => {
    db = await createSite('fixture', 'no_iuid');
    const writer = new Dcm4cheeWriter(db.conn);
    receiver = await startCentralReceiver('unidentified_studies', { [CENTER]: KEY });
    dir = writeSiteConfig(db, { url: receiver.url });
    const patient = await writer.createPatient({ patId: '5-5', name: 'SINUID^PEDRO' });
    blank = await writer.storeStudy(patient);
    await writer.storeStudy(patient);
    await db.conn.query("UPDATE study SET study_iuid = '' WHERE pk = ?", [blank]);
  });
  afterAll(async () => {
    await receiver?.close();
    await db?.drop();
  });

  it('initial and sync warn naming its study_pk; status counts it', async () => {
    const initial = await runCli(['initial'], dir);
    expect(initial.code, initial.stderr).toBe(0);
    expect(warnLine(initial.stderr)).toEqual([expect.objectContaining({ level: 40, count: 1, study_pks: [blank] })]);
    expect((await receiver.held(CENTER)).size).toBe(1);
    await db.conn.query("UPDATE study SET study_desc = 'CAMBIO' WHERE pk = ?", [blank]);
    const sync = await runCli(['sync'], dir);
    expect(sync.code, sync.stderr).toBe(0);
    expect(warnLine(sync.stderr)).toEqual([expect.objectContaining({ count: 1, study_pks: [blank] })]);
    for (const text of [initial.stderr, sync.stderr]) expect(text).not.toContain('SINUID');
    const status = JSON.parse((await runCli(['status'], dir)).stdout) as { missing_iuid: unknown };
    expect(status.missing_iuid).toEqual({ count: 1, study_pks: [blank] });
  });
});
