import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSeedArgs, SeedArgumentError } from '../../scripts/seed/args.js';
import { CentreGenerator, type Chunk, type GeneratorOptions } from '../../scripts/seed/generator.js';
import type { SeedPatient } from '../../scripts/seed/people.js';
import { seedCentre } from '../../scripts/seed/run.js';
import { stripAccents } from '../../scripts/seed/names.js';
import { createTestDatabase, type TestDatabase } from '../helpers/mysql.js';
import { loadSqlFile, UPSTREAM_SQL } from '../helpers/pacsdb.js';
import { installSql } from '../../src/agent/sources/dcm4chee/capture-objects.js';
import { runSqlScript } from '../../src/agent/sources/dcm4chee/sql-script.js';
import { ensureSchema } from '../../scripts/seed/schema.js';

/** Our own módulo 11, independent of the seeder's: digits right to left × 2..7, 11 → 0, 10 → K. */
function expectedDv(body: string): string {
  let sum = 0;
  [...body].reverse().forEach((d, i) => {
    sum += Number(d) * (2 + (i % 6));
  });
  const r = 11 - (sum % 11);
  return r === 11 ? '0' : r === 10 ? 'K' : String(r);
}

function generateAll(opts: GeneratorOptions, chunkSize = 500): Chunk {
  const all: Chunk = { patients: [], studies: [] };
  for (const c of new CentreGenerator(opts).chunks(chunkSize)) {
    all.patients.push(...c.patients);
    all.studies.push(...c.studies);
  }
  return all;
}

const BASE: GeneratorOptions = { center: 'T1', studies: 5000, seed: '42', sharedPatients: 0.2 };

describe('generator (pure)', () => {
  const data = generateAll(BASE);

  it('is deterministic: same options, same data, whatever the chunk size', () => {
    expect(generateAll(BASE, 777)).toEqual(data);
    expect(generateAll({ ...BASE, seed: '43' }).studies[0]).not.toEqual(data.studies[0]);
    expect(generateAll({ ...BASE, center: 'T2' }).studies[0]!.uid).not.toBe(data.studies[0]!.uid);
  });

  it('writes valid RUTs with a correct check digit in the stored spellings', () => {
    const ruts = data.patients.filter((p) => p.idKind === 'rut');
    expect(ruts.length).toBeGreaterThan(data.patients.length * 0.85);
    const styles = new Set<string>();
    for (const p of ruts) {
      const m = /^(\d{1,2}(?:\.\d{3}){2}|\d{7,8})-?([0-9Kk])$/.exec(p.patId);
      expect(m, p.patId).not.toBeNull();
      const body = m![1]!.replace(/\./g, '');
      expect(m![2]!.toUpperCase()).toBe(expectedDv(body));
      expect(Number(body)).toBe(p.rutBody);
      styles.add(p.patId.includes('.') ? 'dotted' : p.patId.includes('-') ? 'dashed' : 'plain');
      if (p.patId.endsWith('k')) styles.add('lower-k');
    }
    expect([...styles].sort()).toEqual(['dashed', 'dotted', 'lower-k', 'plain']);
    expect(expectedDv('12345678')).toBe('5');
    expect(expectedDv('12667869')).toBe('K');
    expect(expectedDv('3705779')).toBe('7');
  });

  it('has the malformed identifiers sites really have', () => {
    const byKind = (k: SeedPatient['idKind']) => data.patients.filter((p) => p.idKind === k);
    for (const p of byKind('rut-wrong-dv')) {
      const clean = p.patId.replace(/[.-]/g, '');
      expect(clean.slice(-1).toUpperCase()).not.toBe(expectedDv(clean.slice(0, -1)));
    }
    expect(byKind('rut-wrong-dv').length).toBeGreaterThan(0);
    expect(byKind('rut-spaces').every((p) => /\s/.test(p.patId))).toBe(true);
    expect(byKind('rut-leading-zeros').every((p) => p.patId.startsWith('0'))).toBe(true);
    expect(byKind('passport').every((p) => /^[A-Z]+\d{7}$/.test(p.patId) && p.issuer === 'PASAPORTE')).toBe(true);
    expect(byKind('internal').length).toBeGreaterThan(0);
  });

  it('has the variety: accents, ñ, PN layouts, odd birth dates, sexes, NULL datetimes, multi-modality', () => {
    const names = data.patients.map((p) => p.name);
    expect(names.some((n) => /[ÁÉÍÓÚ]/.test(n))).toBe(true);
    expect(names.some((n) => n.includes('Ñ'))).toBe(true);
    expect(names.some((n) => n.split('^').length === 3)).toBe(true);
    expect(names.some((n) => n.split('^').length === 2)).toBe(true);
    expect(names.every((n) => n === n.toUpperCase() && /^[\x20-\xff]+$/.test(n))).toBe(true); // latin1 only
    const births = data.patients.map((p) => p.birthDate);
    expect(births).toContain(null);
    expect(births).toContain('');
    expect(births.some((b) => b !== null && /^(\d{4}(0231|0230|1304|0000)|00000000)$/.test(b))).toBe(true);
    expect(new Set(data.patients.map((p) => p.sex))).toEqual(new Set(['M', 'F', 'O', null]));
    const mods = new Set(data.studies.map((s) => s.modalities));
    for (const m of ['CR', 'CT', 'MR', 'US', 'DX', 'MG', 'CT\\SR', 'MR\\PR']) expect(mods).toContain(m);
    expect(data.studies.some((s) => s.datetime === null)).toBe(true);
    const years = new Set(data.studies.map((s) => s.datetime?.slice(0, 4)).filter(Boolean));
    expect(years.size).toBeGreaterThan(10);
    expect(data.studies.some((s) => s.description?.includes('TÓRAX'))).toBe(true);
    expect(data.studies.some((s) => s.accessionNo === null)).toBe(true);
  });

  it('keeps derived study fields consistent with its series', () => {
    for (const s of data.studies) {
      expect(s.numSeries).toBe(s.series.length);
      expect(s.numInstances).toBe(s.series.reduce((n, x) => n + x.instances, 0));
      expect(s.modalities).toBe([...new Set(s.series.map((x) => x.modality))].join('\\'));
      expect(s.series.every((x) => x.uid.startsWith(`${s.uid}.`) && x.instances >= 1)).toBe(true);
    }
    expect(new Set(data.studies.map((s) => s.uid)).size).toBe(data.studies.length);
    // every patient has studies, and is introduced in the chunk of its first study
    expect(new Set(data.studies.map((s) => s.patientIndex)).size).toBe(data.patients.length);
  });

  it('shares people across centres: same RUT and name, each site spelling them its own way', () => {
    const other = generateAll({ ...BASE, center: 'T2', seed: '7', studies: 3000 });
    const shared = (c: Chunk) => new Map(c.patients.filter((p) => p.sharedIndex !== null).map((p) => [p.sharedIndex, p]));
    const a = shared(data);
    const b = shared(other);
    const both = [...a.keys()].filter((k) => b.has(k));
    expect(both.length).toBeGreaterThan(100);
    let spelledDifferently = 0;
    for (const k of both) {
      const pa = a.get(k)!;
      const pb = b.get(k)!;
      expect(pa.rutBody).toBe(pb.rutBody);
      expect(pa.birthDate).toBe(pb.birthDate);
      expect(stripAccents(pa.name).split(/[\^ ]/)[0]).toBe(stripAccents(pb.name).split(/[\^ ]/)[0]);
      if (pa.patId !== pb.patId) spelledDifferently++;
    }
    expect(spelledDifferently).toBeGreaterThan(0);
  });
});

describe('arguments', () => {
  it('parses the documented flags', () => {
    const o = parseSeedArgs(['--studies', '100', '--center', '001', '--shared-patients', '0.2', '--no-instances']);
    expect(o).toMatchObject({ studies: 100, center: '001', sharedPatients: 0.2, instances: false, seed: '1' });
  });

  it.each([
    [['--studies', 'x', '--center', 'A'], /--studies "x"/],
    [['--studies', '5', '--center', 'A B'], /--center "A B"/],
    [['--studies', '5', '--center', 'A', '--shared-patients', '2'], /--shared-patients "2"/],
    [['--center', 'A'], /--studies is required/],
    [['--studies', '5', '--center', 'A', '--nope'], /--nope/],
  ])('rejects %j naming the flag', (argv, message) => {
    expect(() => parseSeedArgs(argv)).toThrow(SeedArgumentError);
    expect(() => parseSeedArgs(argv)).toThrow(message);
  });
});

type Flavor = 'upstream' | 'create-schema';
const flavors: Flavor[] = existsSync(UPSTREAM_SQL) ? ['upstream', 'create-schema'] : ['create-schema'];

describe.each(flavors)('loading into MariaDB (%s DDL)', (flavor) => {
  let db: TestDatabase;
  const opts = { center: 'DB1', studies: 1500, seed: '5', sharedPatients: 0.2 };

  beforeAll(async () => {
    db = await createTestDatabase('seed', 'latin1');
    if (flavor === 'upstream') await loadSqlFile(db.conn, UPSTREAM_SQL);
    await seedCentre({ ...opts, db: db.options, createSchema: flavor === 'create-schema', chunkSize: 400, jobs: 2 });
  });
  afterAll(async () => {
    await db?.drop();
  });

  const q = async <T>(sql: string, values: unknown[] = []): Promise<T[]> => (await db.conn.query(sql, values))[0] as T[];

  it('writes consistent derived fields: num_series, num_instances, mods_in_study', async () => {
    const [counts] = await q<{ st: number; se: number; i: number; p: number }>(
      'SELECT (SELECT COUNT(*) FROM study) st, (SELECT COUNT(*) FROM series) se, (SELECT COUNT(*) FROM instance) i, (SELECT COUNT(*) FROM patient) p',
    );
    expect(Number(counts!.st)).toBe(1500);
    const bad = await q(
      `SELECT s.pk FROM study s
         JOIN (SELECT se.study_fk, COUNT(*) n, SUM(se.num_instances) ni,
                      SUM((SELECT COUNT(*) FROM instance i WHERE i.series_fk = se.pk)) real_i
                 FROM series se GROUP BY se.study_fk) x ON x.study_fk = s.pk
        WHERE s.num_series <> x.n OR s.num_instances <> x.ni OR s.num_instances <> x.real_i`,
    );
    expect(bad).toEqual([]);
    const mods = await q<{ pk: number; mods_in_study: string; m: string }>(
      `SELECT s.pk, s.mods_in_study, GROUP_CONCAT(DISTINCT se.modality ORDER BY se.modality) m
         FROM study s JOIN series se ON se.study_fk = s.pk GROUP BY s.pk, s.mods_in_study`,
    );
    for (const r of mods) expect(r.mods_in_study.split('\\').sort().join(',')).toBe(r.m);
    const [orphans] = await q<{ n: number }>('SELECT COUNT(*) n FROM study s LEFT JOIN patient p ON p.pk = s.patient_fk WHERE p.pk IS NULL');
    expect(Number(orphans!.n)).toBe(0);
    const [nulls] = await q<{ n: number }>('SELECT COUNT(*) n FROM study WHERE study_datetime IS NULL');
    expect(Number(nulls!.n)).toBeGreaterThan(0);
  });

  it('keeps accents through the latin1 columns', async () => {
    // Patients are inserted in generation order, so pk order matches the generator's list.
    const expected = generateAll(opts).patients.map((p) => [p.patId, p.name]);
    const rows = await q<{ pat_id: string; pat_name: string; hex: string }>(
      'SELECT pat_id, pat_name, HEX(pat_name) hex FROM patient ORDER BY pk',
    );
    expect(rows.map((r) => [r.pat_id, r.pat_name])).toEqual(expected);
    const withEnye = rows.find((r) => r.pat_name.includes('Ñ'));
    expect(withEnye?.hex).toContain('D1'); // Ñ stored as one latin1 byte, not as UTF-8 C391
    const [charset] = await q<{ c: string }>(
      "SELECT character_set_name c FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'patient' AND column_name = 'pat_name'",
    );
    expect(charset!.c).toBe('latin1');
    const [desc] = await q<{ n: number }>("SELECT COUNT(*) n FROM study WHERE study_desc LIKE '%TÓRAX%'");
    expect(Number(desc!.n)).toBeGreaterThan(0);
  });

  it('refuses to load the same centre and seed twice, saying why', async () => {
    await expect(seedCentre({ ...opts, studies: 10, db: db.options })).rejects.toThrow(/already loaded/);
  });

  it('with --no-instances keeps num_instances and writes no instance rows', async () => {
    const before = await q<{ n: number }>('SELECT COUNT(*) n FROM instance');
    const r = await seedCentre({ center: 'DB2', studies: 200, seed: '5', db: db.options, instances: false, createSchema: true });
    expect(r.createdTables).toEqual([]);
    expect(r.instances).toBe(0);
    const after = await q<{ n: number }>('SELECT COUNT(*) n FROM instance');
    expect(after[0]!.n).toBe(before[0]!.n);
    const [sum] = await q<{ n: number }>("SELECT SUM(num_instances) n FROM study WHERE study_iuid LIKE ?", [`${(await q<{ u: string }>('SELECT study_iuid u FROM study ORDER BY pk DESC LIMIT 1'))[0]!.u.slice(0, 20)}%`]);
    expect(Number(sum!.n)).toBeGreaterThan(200);
  });
});

describe('with the indexer capture objects installed', () => {
  let db: TestDatabase;
  afterAll(async () => {
    await db?.drop();
  });

  it('seeds normally and the triggers queue every new study', async () => {
    db = await createTestDatabase('seed_trg', 'latin1');
    await ensureSchema(db.conn);
    await runSqlScript(db.conn, installSql());
    const r = await seedCentre({ center: 'TRG', studies: 300, seed: '3', db: db.options, jobs: 2, chunkSize: 50 });
    expect(r.studies).toBe(300);
    const [row] = (await db.conn.query("SELECT COUNT(DISTINCT study_pk) n FROM study_service WHERE op = 'I'"))[0] as Array<{ n: number }>;
    expect(Number(row!.n)).toBe(300);
  });
});
