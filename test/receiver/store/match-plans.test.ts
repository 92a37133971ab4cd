import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countSql, loadCenters, matchSql } from '../../../src/receiver/store/study-match-sql.js';
import { escapeLike, type StudyMatch } from '../../../src/receiver/store/study-match.js';
import { addCenter, bearer, http, record, startReceiver, type Receiver } from '../receiver-harness.js';

/**
 * The plans of the paged lookups every read interface builds (JSON API, QIDO-RS, FHIR): each is
 * driven by an index in page order — no full scan of studies, no filesort — so it stays a few
 * index reads at millions of rows (the benchmark measures the times; this catches a plan that
 * would crawl, at 12,000 rows).
 */
let rx: Receiver;
const MODS = [['CT'], ['MR'], ['CR'], ['CT', 'SR'], ['US'], ['DX']];
const FAMILY = ['GONZÁLEZ', 'MUÑOZ', 'ROJAS', 'DÍAZ', 'PÉREZ', 'SOTO', 'SILVA', 'NÚÑEZ'];

beforeAll(async () => {
  rx = await startReceiver('rx_match_plans');
  for (const code of ['P1', 'P2', 'P3']) {
    const key = await addCenter(rx.store, code);
    for (let b = 0; b < 2; b += 1) {
      const records = Array.from({ length: 2000 }, (_, j) => {
        const i = b * 2000 + j;
        const day = new Date(Date.UTC(2010, 0, 1) + ((i * 7919) % 5475) * 86_400_000).toISOString().slice(0, 10);
        const mods = MODS[i % MODS.length]!;
        return record(`${code}.${i}`, 1 + i, {
          patient_id: `${3_000_000 + (i % 1500)}-K`, patient_name: `${FAMILY[i % FAMILY.length]}^ANA`, study_datetime: `${day}T10:00:00`,
          modalities: mods, study_modality: mods.join('\\'), accession_no: `A${i}`, study_description: `ESTUDIO ${i % 50}`,
        });
      });
      expect((await http(rx.base, 'POST', `/api/v2/centers/${code}/studies`, { headers: bearer(key), json: { records } })).status).toBe(200);
    }
  }
  await rx.pool.query('ANALYZE TABLE studies, study_modalities, centers');
});
afterAll(async () => {
  await rx?.close();
});

async function plan(sql: string, args: unknown[]): Promise<RowDataPacket[]> {
  const [rows] = await rx.pool.query<RowDataPacket[]>(`EXPLAIN ${sql}`, args);
  return rows;
}

const base = { includeDeleted: false } as const;
const month = { from: '2015-01-01', to: '2015-01-31' };
const SHAPES: [string, StudyMatch, string][] = [
  ['patient', { ...base, patientKey: '3000001-K' }, 'studies_patient'],
  ['patient, literal id (QIDO non-RUT)', { ...base, patientKey: '3000001-K', patientId: { equals: '3000001-K' } }, 'studies_patient'],
  ['date range', { ...base, ...month }, 'studies_date'],
  ['centre + date range', { ...base, centers: ['P2'], ...month }, 'studies_center_date'],
  ['modality + date range', { ...base, modalities: ['CT'], ...month }, 'study_modalities_modality'],
  ['family-name prefix', { ...base, familyName: { like: `${escapeLike('MU')}%` } }, 'studies_name'],
  ['family name exact (QIDO PatientName=MUÑOZ)', { ...base, familyName: { equals: 'MUNOZ' } }, 'studies_name'],
  ['study uid list', { ...base, studyIuids: ['P1.1', 'P2.2', 'P3.3'] }, 'studies_identity'],
  ['accession', { ...base, accessionNo: { equals: 'A77' } }, 'studies_accession'],
];

describe('the plans of the paged lookups', () => {
  it.each(SHAPES)('%s: driven by its index, no full scan, no filesort', async (_name, match, index) => {
    const { sql, args } = matchSql(match, { limit: 50 }, await loadCenters(rx.pool));
    const rows = await plan(sql, args);
    const shown = JSON.stringify(rows);
    expect(rows.map((r) => r.key), shown).toContain(index);
    // No table is scanned (a derived table is the page itself: at most limit + 1 rows).
    expect(rows.filter((r) => !String(r.table).startsWith('<derived')).every((r) => r.type !== 'ALL'), shown).toBe(true);
    for (const r of rows) {
      const extra = String(r.Extra ?? '');
      if (!/filesort/.test(extra)) continue;
      // Sorting is allowed only for the page itself, or for matches read from an index alone
      // (a name prefix sorts the matching name-index entries; a uid list or an accession, a few rows).
      const allowed = String(r.table).startsWith('<derived') || /Using index/.test(extra) || ['studies_identity', 'studies_accession'].includes(index);
      expect(allowed, shown).toBe(true);
    }
  });

  it('counts (FHIR total) for the patient, date-range and modality + date searches read an index, not the table', async () => {
    for (const [, match, index] of SHAPES.slice(0, 5)) {
      const { sql, args } = countSql(match, await loadCenters(rx.pool));
      const rows = await plan(sql, args);
      expect(rows.map((r) => r.key), JSON.stringify(rows)).toContain(index);
      expect(rows.filter((r) => r.table === 's' || r.table === 'm').every((r) => r.type !== 'ALL')).toBe(true);
    }
  });

  it('a count by dates, with or without a centre, reads index entries only (tombstones are filtered in the index)', async () => {
    for (const match of [{ ...base, ...month }, { ...base, centers: ['P2'], ...month }]) {
      const { sql, args } = countSql(match, await loadCenters(rx.pool));
      const rows = await plan(sql, args);
      expect(String(rows[0]!.Extra), JSON.stringify(rows)).toMatch(/Using index(?! condition)/);
    }
  });

  it('pages with tombstones included still come off the date index in order', async () => {
    for (const match of [{ includeDeleted: true }, { includeDeleted: true, ...month }, { includeDeleted: true, centers: ['P1'] }] as StudyMatch[]) {
      const { sql, args } = matchSql(match, { limit: 50 }, await loadCenters(rx.pool));
      const rows = await plan(sql, args);
      expect(rows.every((r) => !/filesort/.test(String(r.Extra))), JSON.stringify(rows)).toBe(true);
    }
  });
});
