import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { validateRecord } from '../src/receiver/record-validation.js';
import { bulkInsertStudies, centerIdOf, explain, finishBulkLoad } from './bulk-load.js';
import { matchOf } from '../src/receiver/store/study-query.js';
import { loadCenters, matchSql } from '../src/receiver/store/study-match-sql.js';
import type { StudyMatch } from '../src/receiver/store/study-match.js';
import { parseRut, patientKey } from '../src/shared/patient-key.js';
import { benchServerUrl, percentile, startBenchReceiver, type BenchReceiver } from './receiver-bench-support.js';
import { patients, prng, studies, type Patient } from './receiver-data.js';

/**
 * Query latency through real HTTP (auth, audit write, JSON) at N stored studies: patient lookup,
 * centre + date-range page, modality + date page, family-name prefix; and the same patient,
 * date-range and modality + date searches through QIDO-RS (pages of 101, as OHIF asks) and FHIR
 * (the default page of 50, with its total). The studies are loaded
 * straight into the tables (multi-row inserts), over 8 centres, with patients who have studies at
 * several of them. Target: every p95 <= 20 ms (at 1M in a --full run). A measurement, not a test.
 */
export interface QueryOptions {
  url: string;
  studies: number;
  /** Requests per query kind (>= 200). */
  requests?: number;
}

export interface QueryFigure {
  kind: string;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** Index the plan uses for its driving table (from EXPLAIN). */
  index: string;
  meetsTarget: boolean;
}

export interface QueryResult {
  studies: number;
  requests: number;
  loadSeconds: number;
  figures: QueryFigure[];
}

const TARGET_P95_MS = 20;
const CENTRES = 8;
const CHUNK = 2000;

async function load(rx: BenchReceiver, total: number): Promise<Patient[]> {
  const people = patients(Math.max(50, Math.floor(total / 4)), 5);
  const perCentre = Math.ceil(total / CENTRES);
  let nextId = 1;
  for (let c = 0; c < CENTRES; c += 1) {
    const code = `Q${c + 1}`;
    await rx.addCenter(code);
    const centerId = (await centerIdOf(rx.pool, code))!;
    for (let first = 0; first < perCentre; first += CHUNK) {
      const count = Math.min(CHUNK, perCentre - first);
      const versions = studies({ center: code, first, count, people, seed: c * 7919 + first, sourceSeq: 1 + first })
        .map((r) => validateRecord(r, code))
        .flatMap((v) => (v.ok ? [v.version] : []));
      await bulkInsertStudies(rx.pool, centerId, versions, nextId);
      nextId += versions.length;
    }
  }
  await finishBulkLoad(rx.pool);
  return people;
}

interface Kind {
  kind: string;
  path(r: () => number): string;
  /** What the route asks of the store (for EXPLAIN). */
  match: StudyMatch;
}

const compact = (d: string) => d.replace(/-/g, '');

/** The match QIDO-RS builds for PatientID=id: the key, and literally the id unless it is a RUT. */
function qidoPatient(id: string): StudyMatch {
  return { includeDeleted: false, patientKey: patientKey(id) ?? '', ...(parseRut(id) ? {} : { patientId: { equals: id.trim() } }) };
}

function dateRange(r: () => number, days: number): { from: string; to: string } {
  const start = Date.UTC(2010, 0, 1) + Math.floor(r() * (15 * 365 - days)) * 86_400_000;
  return { from: new Date(start).toISOString().slice(0, 10), to: new Date(start + days * 86_400_000).toISOString().slice(0, 10) };
}

function kinds(people: Patient[]): Kind[] {
  const ids = people.map((p) => p.id).filter((id): id is string => id !== null);
  const prefixes = ['GONZ', 'MU', 'SEP', 'ROJ', 'VALENZ', 'NUN', 'PÉR', 'FIGUEROA', 'Castillo', 'HER'];
  const mods = ['CT', 'MR', 'CR', 'US', 'DX', 'MG', 'PT'];
  const id = (r: () => number) => ids[Math.floor(r() * ids.length)]!;
  const mod = (r: () => number) => mods[Math.floor(r() * mods.length)]!;
  const month = { from: '2015-01-01', to: '2015-01-31' };
  return [
    { kind: 'patient lookup', path: (r) => `/api/v2/patients/${encodeURIComponent(id(r))}/studies`,
      match: matchOf({ patientKey: patientKey(ids[0]!) ?? '', includeDeleted: false }) },
    { kind: 'centre + date page', path: (r) => `/api/v2/studies?${new URLSearchParams({ center: `Q${1 + Math.floor(r() * CENTRES)}`, ...dateRange(r, 90) })}`,
      match: matchOf({ center: 'Q1', from: '2015-01-01', to: '2015-03-31', includeDeleted: false }) },
    { kind: 'modality + date page', path: (r) => `/api/v2/studies?${new URLSearchParams({ modality: mod(r), ...dateRange(r, 30) })}`,
      match: matchOf({ modality: 'CT', ...month, includeDeleted: false }) },
    { kind: 'name prefix', path: (r) => `/api/v2/studies?${new URLSearchParams({ name: prefixes[Math.floor(r() * prefixes.length)]! })}`,
      match: matchOf({ namePrefix: 'GONZ', includeDeleted: false }) },
    { kind: 'QIDO-RS patient', path: (r) => `/dicom-web/studies?${new URLSearchParams({ PatientID: id(r), limit: '101' })}`, match: qidoPatient(ids[0]!) },
    { kind: 'QIDO-RS date range', path: (r) => { const d = dateRange(r, 30); return `/dicom-web/studies?${new URLSearchParams({ StudyDate: `${compact(d.from)}-${compact(d.to)}`, limit: '101' })}`; },
      match: { includeDeleted: false, ...month } },
    { kind: 'QIDO-RS modality + date', path: (r) => { const d = dateRange(r, 30); return `/dicom-web/studies?${new URLSearchParams({ ModalitiesInStudy: mod(r), StudyDate: `${compact(d.from)}-${compact(d.to)}`, limit: '101' })}`; },
      match: { includeDeleted: false, modalities: ['CT'], ...month } },
    { kind: 'FHIR patient', path: (r) => `/fhir/ImagingStudy?${new URLSearchParams({ 'patient:identifier': id(r) })}`,
      match: { includeDeleted: false, patientKey: patientKey(ids[0]!) ?? '' } },
    { kind: 'FHIR date range', path: (r) => { const d = dateRange(r, 30); return `/fhir/ImagingStudy?${new URLSearchParams([['started', `ge${d.from}`], ['started', `le${d.to}`]])}`; },
      match: { includeDeleted: false, ...month } },
    { kind: 'FHIR modality + date', path: (r) => { const d = dateRange(r, 30); return `/fhir/ImagingStudy?${new URLSearchParams([['modality', mod(r)], ['started', `ge${d.from}`], ['started', `le${d.to}`]])}`; },
      match: { includeDeleted: false, modalities: ['CT'], ...month } },
  ];
}

async function timeKind(dispatcher: Agent, base: string, token: string, kind: Kind, n: number): Promise<number[]> {
  const r = prng(kind.kind.length * 31);
  const out: number[] = [];
  for (let i = 0; i < n + 10; i += 1) {
    const t = performance.now();
    const res = await request(`${base}${kind.path(r)}`, { dispatcher, headers: { authorization: `Bearer ${token}` } });
    await res.body.text();
    if (res.statusCode !== 200) throw new Error(`${kind.kind}: HTTP ${res.statusCode}`);
    if (i >= 10) out.push(performance.now() - t); // the first ten warm the plan and the pages
  }
  return out;
}

function indexOf(plan: Record<string, unknown>[]): string {
  return plan.map((row) => `${String(row.table)}:${String(row.key ?? 'ALL')}`).join(' ');
}

export async function measureQueries(options: QueryOptions): Promise<QueryResult> {
  const n = Math.max(200, options.requests ?? 200);
  const rx = await startBenchReceiver(options.url, `rx_query_${options.studies}`);
  const dispatcher = new Agent({ connections: 1 });
  try {
    const t0 = performance.now();
    const people = await load(rx, options.studies);
    const loadSeconds = (performance.now() - t0) / 1000;
    const token = await rx.addToken('bench');
    const figures: QueryFigure[] = [];
    for (const kind of kinds(people)) {
      const ms = await timeKind(dispatcher, rx.base, token, kind, n);
      const { sql, args } = matchSql(kind.match, { limit: 50 }, await loadCenters(rx.pool));
      const p95 = percentile(ms, 95);
      figures.push({
        kind: kind.kind,
        p50Ms: Math.round(percentile(ms, 50) * 10) / 10,
        p95Ms: Math.round(p95 * 10) / 10,
        p99Ms: Math.round(percentile(ms, 99) * 10) / 10,
        index: indexOf(await explain(rx.pool, sql, args)),
        meetsTarget: p95 <= TARGET_P95_MS,
      });
    }
    return { studies: options.studies, requests: n, loadSeconds: Math.round(loadSeconds), figures };
  } finally {
    await dispatcher.close();
    await rx.close();
  }
}

// Run alone: node dist/bench/receiver-query.js [studies] [--full]  (--full: 1,000,000 studies)
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const full = process.argv.includes('--full');
  const given = process.argv.slice(2).find((a) => /^\d+$/.test(a));
  const count = given ? Number(given) : full ? 1_000_000 : 100_000;
  measureQueries({ url: benchServerUrl(), studies: count }).then(
    (r) => process.stdout.write(`${JSON.stringify(r, null, 2)}\n`),
    (err: unknown) => {
      process.stderr.write(`receiver-query: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
