import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentHash } from '../../src/shared/content-hash.js';
import { Dcm4cheeWriter } from '../helpers/dcm4chee-writer.js';
import { writeMix } from '../helpers/dcm4chee-write-mix.js';
import type { TestDatabase } from '../helpers/mysql.js';
import { createSite, projectLive, runCli, sourceStudies, writeSiteConfig } from '../agent/support/agent-harness.js';
import { addCenter, addToken, http, startReceiver, type Receiver } from '../helpers/receiver-harness.js';

/**
 * The two halves together, as a site runs them: the built agent CLI against two dcm4chee
 * databases (real MariaDB) posting to the real receiver over HTTP, then the central team's queries.
 */
interface Site {
  code: string;
  db: TestDatabase;
  dir: string;
  writer: Dcm4cheeWriter;
}

async function allRecords(receiver: Receiver, token: string, center: string): Promise<Map<string, Record<string, unknown>>> {
  const out = new Map<string, Record<string, unknown>>();
  let cursor: string | null = null;
  do {
    const q: string = `/api/v2/studies?center=${center}&include_deleted=true&limit=37${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await http(receiver.base, 'GET', q, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status, res.text).toBe(200);
    for (const item of res.json.items as Record<string, unknown>[]) {
      expect(out.has(String(item.study_iuid)), 'a study appears twice across pages').toBe(false);
      out.set(String(item.study_iuid), item);
    }
    cursor = res.json.next_cursor as string | null;
  } while (cursor);
  return out;
}

describe('agent (built CLI) → receiver (real HTTP) → query API, two centres on MariaDB', () => {
  let receiver: Receiver;
  let token: string;
  const sites: Site[] = [];

  beforeAll(async () => {
    receiver = await startReceiver('e2e_central');
    token = await addToken(receiver.store, 'central-team');
    for (const code of ['001', '002']) {
      const db = await createSite('fixture', `e2e_${code}`);
      await db.conn.query("SET SESSION sql_mode = ''");
      const key = await addCenter(receiver.store, code);
      const dir = writeSiteConfig(db, { url: receiver.base, key }, code);
      sites.push({ code, db, dir, writer: new Dcm4cheeWriter(db.conn) });
    }
  });
  afterAll(async () => {
    for (const s of sites) await s.db.drop();
    await receiver?.close();
  });

  async function expectCentreEqualsSource(site: Site): Promise<void> {
    const held = await allRecords(receiver, token, site.code);
    const source = await sourceStudies(site.db.conn);
    expect(projectLive(held)).toEqual(source);
    for (const [iuid, r] of held) if (!source.has(iuid)) expect(r.deleted, iuid).toBe(true);
  }

  it('initial at both centres stores every study exactly once, with the fields of the source', async () => {
    for (const s of sites) {
      await writeMix(s.writer, 40);
      const res = await runCli(['initial'], s.dir);
      expect(res.code, res.stderr).toBe(0);
    }
    for (const s of sites) await expectCentreEqualsSource(s);
  });

  it('changes reach the receiver with sync, and one patient is found across centres and RUT spellings', async () => {
    const [a, b] = sites as [Site, Site];
    const pa = await a.writer.createPatient({ patId: '12.345.678-5', name: 'MUÑOZ^JOSÉ^PEÑA', birthdate: '19800229' });
    const sa = await a.writer.storeStudy(pa, { datetime: '2024-03-01 10:00:00', desc: 'TC DE TÓRAX' });
    await a.writer.addSeries(sa, { modality: 'CT', instances: 120 });
    const pb = await b.writer.createPatient({ patId: '123456785', name: 'MUNOZ^JOSE', birthdate: '' });
    const sb = await b.writer.storeStudy(pb, { datetime: '2025-01-15 08:30:00', desc: 'RM CEREBRO' });
    await b.writer.addSeries(sb, { modality: 'MR', instances: 40 });
    await writeMix(a.writer, 20);
    await writeMix(b.writer, 20);
    for (const s of sites) expect((await runCli(['sync'], s.dir)).code).toBe(0);
    for (const s of sites) await expectCentreEqualsSource(s);

    const res = await http(receiver.base, 'GET', '/api/v2/patients/12345678-5/studies', { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const items = res.json.items as Record<string, unknown>[];
    expect(items.map((i) => [i.center, i.study_description])).toEqual([
      ['002', 'RM CEREBRO'],
      ['001', 'TC DE TÓRAX'],
    ]);
    expect(items[1]).toMatchObject({ patient_name: 'MUÑOZ^JOSÉ^PEÑA', patient_birthdate: '1980-02-29', modalities: ['CT'], study_instances: 120 });

    const byName = await http(receiver.base, 'GET', '/api/v2/studies?name=munoz', { headers: { authorization: `Bearer ${token}` } });
    expect((byName.json.items as unknown[]).length).toBeGreaterThanOrEqual(2);
  });

  it('stores the content hash the agent computed, equal to the hash of what the receiver returns', async () => {
    const [rows] = await receiver.pool.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM studies WHERE content_hash IS NULL');
    expect(Number(rows[0]!.n)).toBe(0);
    const held = await allRecords(receiver, token, '001');
    const [stored] = await receiver.pool.query<mysql.RowDataPacket[]>(
      'SELECT s.study_iuid, s.content_hash FROM studies s JOIN centers c ON c.id = s.center_id WHERE c.code = ?', ['001'],
    );
    for (const r of stored) {
      const rec = held.get(String(r.study_iuid))!;
      expect(r.content_hash, String(r.study_iuid)).toBe(contentHash(rec as never));
    }
  });

  it('the centre list counts live studies and reports last_seen and the last source_seq', async () => {
    const res = await http(receiver.base, 'GET', '/api/v2/centers', { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    for (const s of sites) {
      const live = (await sourceStudies(s.db.conn)).size;
      const item = (res.json.items as Record<string, unknown>[]).find((i) => i.code === s.code)!;
      expect(item.studies).toBe(live);
      expect(item.last_seen).toBeTruthy();
      expect(Number(item.last_source_seq)).toBeGreaterThan(0);
    }
  });

  it('re-running initial with --restart stores nothing new in effect (same content, higher versions)', async () => {
    const site = sites[0]!;
    const before = await allRecords(receiver, token, site.code);
    expect((await runCli(['initial', '--restart'], site.dir)).code).toBe(0);
    const after = await allRecords(receiver, token, site.code);
    expect(projectLive(after)).toEqual(projectLive(before));
    expect(after.size).toBe(before.size);
  });
});
