import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../../src/receiver/http/auth.js';
import { createPool } from '../../../src/receiver/store/db.js';
import { countStudies, matchStudies, studyById } from '../../../src/receiver/store/study-match-sql.js';
import { QueryTooBroadError } from '../../../src/receiver/store/store-errors.js';
import { escapeLike, type StudyMatch } from '../../../src/receiver/store/study-match.js';
import { addCenter, bearer, http, record, startReceiver, type Receiver } from '../receiver-harness.js';

/**
 * The store's matching (study-match-sql.ts) against a real MariaDB: every StudyMatch field, its
 * collation (case- and accent-insensitive names, case-sensitive literal patient ids), list
 * conditions, offset and keyset paging, counts and the time budget.
 */
let rx: Receiver;
const BUDGET = 5000;

const rows = [
  { study_iuid: '1.1', patient_id: '12.345.678-5', patient_name: 'MUÑOZ^ANA^MARÍA', study_datetime: '2021-03-01T08:15:00', modalities: ['CT', 'SR'], accession_no: 'A-1', study_id: 'S1', referring_physician: 'HOUSE^GREGORY', study_description: 'TÓRAX AP' },
  { study_iuid: '1.2', patient_id: '123456785', patient_name: 'munoz^ana', study_datetime: '2021-03-02T23:59:59', modalities: ['MR'], accession_no: 'A-2', study_id: 'S2', referring_physician: 'WILSON^JAMES', study_description: 'CEREBRO' },
  { study_iuid: '1.3', patient_id: 'abc-1', patient_name: 'PÉREZ^JOSÉ', study_datetime: null, modalities: [], accession_no: null, study_id: null, referring_physician: null, study_description: '50% DOSIS' },
  { study_iuid: '1.4', patient_id: 'ABC-1', patient_name: 'PERALTA^LUIS=ペラルタ^ルイス', study_datetime: '2020-06-15T10:30:00', modalities: ['CT'], accession_no: 'A_4', study_id: 'S4', referring_physician: 'HOUSE^ALLISON', study_description: 'Tórax lateral' },
  { study_iuid: '1.5', patient_id: 'x', patient_name: 'GONE^X', study_datetime: '2020-06-16T10:30:00', modalities: ['CT'], accession_no: 'A-5', study_id: 'S5', referring_physician: null, study_description: null, deleted: true },
];

beforeAll(async () => {
  rx = await startReceiver('rx_match');
  const k1 = await addCenter(rx.store, 'C1');
  const k2 = await addCenter(rx.store, 'C2');
  await rx.store.access.setCenterDetails('C2', { dicomwebUrl: 'https://pacs.c2.example/dicom-web', retrieveAet: 'C2PACS' });
  const post = async (code: string, key: string, list: typeof rows) => {
    const records = list.map((r, i) => record(r.study_iuid, 10 + i, { ...r, study_modality: r.modalities.join('\\') }));
    const res = await http(rx.base, 'POST', `/api/v2/centers/${code}/studies`, { headers: bearer(key), json: { records } });
    expect(res.status).toBe(200);
  };
  await post('C1', k1, rows);
  await post('C2', k2, rows.slice(0, 2).map((r) => ({ ...r, study_iuid: `2${r.study_iuid.slice(1)}` })));
});
afterAll(async () => {
  await rx?.close();
});

async function uids(m: Partial<StudyMatch>, page: { limit?: number; offset?: number } = {}): Promise<string[]> {
  const res = await matchStudies(rx.pool, { includeDeleted: false, ...m }, { limit: page.limit ?? 100, ...(page.offset ? { offset: page.offset } : {}) }, BUDGET);
  return res.rows.map((r) => `${r.center.code}/${r.record.study_iuid}`);
}

describe('StudyMatch', () => {
  // Equal dates: the later-stored row (higher id) first, so C2's copies precede C1's.
  it('orders newest first, undated last, and never returns a tombstone unless asked', async () => {
    expect(await uids({})).toEqual(['C2/2.2', 'C1/1.2', 'C2/2.1', 'C1/1.1', 'C1/1.4', 'C1/1.3']);
    expect(await uids({ includeDeleted: true })).toContain('C1/1.5');
  });

  it('patientKey joins every RUT spelling; patientId is literal, trimmed and case-sensitive', async () => {
    expect(await uids({ patientKey: '12345678-5' })).toEqual(['C2/2.2', 'C1/1.2', 'C2/2.1', 'C1/1.1']);
    expect(await uids({ patientId: { equals: 'abc-1' } })).toEqual(['C1/1.3']);
    expect(await uids({ patientId: { like: 'ABC%' } })).toEqual(['C1/1.4']);
    expect(await uids({ patientId: { like: '%.678-5' } })).toEqual(['C2/2.1', 'C1/1.1']);
  });

  it('name components match case- and accent-insensitively, each in its own place', async () => {
    expect(await uids({ patientName: { components: [{ equals: 'munoz' }, { equals: 'ANA' }] } })).toEqual(['C2/2.2', 'C1/1.2', 'C2/2.1', 'C1/1.1']);
    expect(await uids({ patientName: { components: [null, null, { like: 'MAR%' }] } })).toEqual(['C2/2.1', 'C1/1.1']);
    expect(await uids({ patientName: { components: [{ equals: 'ANA' }] } })).toEqual([]);
    expect(await uids({ patientName: { whole: '%ana%' } })).toHaveLength(4);
    // Only the alphabetic group is matched: the ideographic one is not searched.
    expect(await uids({ patientName: { components: [{ equals: 'PERALTA' }, { equals: 'LUIS' }] } })).toEqual(['C1/1.4']);
    expect(await uids({ patientName: { whole: '%ペラルタ%' } })).toEqual([]);
    expect(await uids({ familyName: { like: `${escapeLike('PE')}%` } })).toEqual(['C1/1.4', 'C1/1.3']);
    expect(await uids({ referringPhysician: { components: [{ equals: 'house' }] } })).toEqual(['C2/2.1', 'C1/1.1', 'C1/1.4']);
  });

  it('dates, times of day, modalities (any of, no duplicates), centres, uids, accession, study id, description', async () => {
    expect(await uids({ from: '2021-03-02', to: '2021-03-02' })).toEqual(['C2/2.2', 'C1/1.2']);
    expect(await uids({ timeFrom: '08:00:00', timeTo: '10:30:00' })).toEqual(['C2/2.1', 'C1/1.1', 'C1/1.4']);
    expect(await uids({ modalities: ['CT', 'SR'] })).toEqual(['C2/2.1', 'C1/1.1', 'C1/1.4']);
    expect(await uids({ modalities: ['SR'] })).toEqual(['C2/2.1', 'C1/1.1']);
    expect(await uids({ modalities: [] })).toEqual([]);
    expect(await uids({ centers: ['C2'] })).toEqual(['C2/2.2', 'C2/2.1']);
    expect(await uids({ centers: [] })).toEqual([]);
    expect(await uids({ studyIuids: ['1.1', '2.2', '9.9'] })).toEqual(['C2/2.2', 'C1/1.1']);
    expect(await uids({ accessionNo: { like: `A${escapeLike('_')}%` } })).toEqual(['C1/1.4']);
    expect(await uids({ studyId: { equals: 's4' } })).toEqual(['C1/1.4']);
    expect(await uids({ description: { like: `%${escapeLike('50%')}%` } })).toEqual(['C1/1.3']);
    expect(await uids({ description: { like: 'torax%' } })).toEqual(['C2/2.1', 'C1/1.1', 'C1/1.4']);
  });

  it('offset and keyset pages cover every match once; counts agree', async () => {
    const all = await uids({});
    const byOffset = [...(await uids({}, { limit: 4 })), ...(await uids({}, { limit: 4, offset: 4 }))];
    expect(byOffset).toEqual(all);
    const first = await matchStudies(rx.pool, { includeDeleted: false }, { limit: 4 }, BUDGET);
    expect(first.more).toBe(true);
    const second = await matchStudies(rx.pool, { includeDeleted: false }, { limit: 4, after: first.next }, BUDGET);
    expect(second.more).toBe(false);
    expect([...first.rows, ...second.rows].map((r) => `${r.center.code}/${r.record.study_iuid}`)).toEqual(all);
    expect(await countStudies(rx.pool, { includeDeleted: false }, BUDGET)).toBe(all.length);
    expect(await countStudies(rx.pool, { includeDeleted: false, modalities: ['CT'] }, BUDGET)).toBe(3);
  });

  it('carries the centre directory, and finds a study by id with its tombstone', async () => {
    const page = await matchStudies(rx.pool, { includeDeleted: true, centers: ['C2'] }, { limit: 1 }, BUDGET);
    expect(page.rows[0]!.center).toEqual({ code: 'C2', name: 'Centre C2', dicomwebUrl: 'https://pacs.c2.example/dicom-web', retrieveAet: 'C2PACS' });
    const gone = (await matchStudies(rx.pool, { includeDeleted: true, studyIuids: ['1.5'] }, { limit: 1 }, BUDGET)).rows[0]!;
    expect((await studyById(rx.pool, gone.id))!.record.deleted).toBe(true);
    expect(await studyById(rx.pool, 987654321)).toBeNull();
  });

  it('a search past its time budget is stopped: QueryTooBroadError; a count past it is null', async () => {
    // Enough rows that a leading-wildcard scan cannot finish within one millisecond.
    const key = 'key-BIG-0123456789abcdef';
    await rx.store.access.addCenter('BIG', null, hashSecret(key));
    for (let b = 0; b < 4; b += 1) {
      const records = Array.from({ length: 2500 }, (_, i) => record(`9.${b}.${i}`, 1 + i, { patient_name: `NAME${b}${i}^X`, study_description: `D ${i}` }));
      expect((await http(rx.base, 'POST', '/api/v2/centers/BIG/studies', { headers: bearer(key), json: { records } })).status).toBe(200);
    }
    const broad: StudyMatch = { includeDeleted: false, patientName: { whole: '%zzzz%' }, description: { like: '%qqqq%' } };
    await expect(matchStudies(rx.pool, broad, { limit: 10 }, 1)).rejects.toBeInstanceOf(QueryTooBroadError);
    expect(await countStudies(rx.pool, broad, 1)).toBeNull();
    expect(await uids(broad)).toEqual([]);
  });

  it('a search past its budget is stopped on the server and its connection closed, never handed to the next statement', async () => {
    // MariaDB's own statement timeout (max_statement_time) can send its error after a completed
    // result; the driver then gave the next statement on that connection a stale answer (seen: a
    // COUNT answered with another query's 51 rows, about once in 8,000). So an overrun connection
    // is never reused: with a pool of one, the next statement runs on a new connection.
    const one = createPool(rx.db.url, 1);
    try {
      const [[before]] = await one.query<RowDataPacket[]>('SELECT CONNECTION_ID() AS id');
      const broad: StudyMatch = { includeDeleted: false, patientName: { whole: '%zzzz%' }, description: { like: '%qqqq%' } };
      await expect(matchStudies(one, broad, { limit: 10 }, 1)).rejects.toBeInstanceOf(QueryTooBroadError);
      const [[after]] = await one.query<RowDataPacket[]>('SELECT CONNECTION_ID() AS id');
      expect(after!.id).not.toBe(before!.id);
      // A search within its budget keeps its connection.
      await matchStudies(one, { includeDeleted: false, patientKey: '12345678-5' }, { limit: 10 }, 5000);
      const [[kept]] = await one.query<RowDataPacket[]>('SELECT CONNECTION_ID() AS id');
      expect(kept!.id).toBe(after!.id);
    } finally {
      await one.end();
    }
  });

  it('under a tight budget, every answer is its own: refused or right, and the next statement unaffected', async () => {
    const everything: StudyMatch = { includeDeleted: false, centers: ['BIG'] };
    const wrong: string[] = [];
    for (let i = 0; i < 300; i += 1) {
      try {
        if (i % 2 === 0) {
          const n = await countStudies(rx.pool, everything, 1);
          if (n !== null && n !== 10_000) wrong.push(`count ${n}`);
        } else {
          const page = await matchStudies(rx.pool, everything, { limit: 50, offset: 100 }, 1);
          if (page.rows.length !== 50 || page.rows.some((r) => r.center.code !== 'BIG')) wrong.push(`page of ${page.rows.length}`);
        }
      } catch (err) {
        if (!(err instanceof QueryTooBroadError)) wrong.push(String(err));
      }
      const [rows] = await rx.pool.query('SELECT 42 AS x');
      if (JSON.stringify(rows) !== '[{"x":42}]') wrong.push(`next statement got ${JSON.stringify(rows).slice(0, 80)}`);
    }
    expect(wrong).toEqual([]);
  });
});
