import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Figures 5 and 6 are measured by modules another engineer owns (bench/receiver-ingest.ts,
 * bench/receiver-query.ts). They are loaded by path at run time so this runner builds and runs
 * whether or not they exist yet; a missing one is reported as a TODO row, never silently skipped.
 */
export type Loaded<T> = { ok: true; result: T } | { ok: false; todo: string };

async function loadModule(name: string): Promise<Record<string, unknown> | undefined> {
  const url = new URL(`./${name}.js`, import.meta.url);
  if (!existsSync(fileURLToPath(url))) return undefined;
  return (await import(url.href)) as Record<string, unknown>;
}

export interface IngestFigure {
  centres: number;
  records: number;
  recordsPerSecond: number;
  [key: string]: unknown;
}

type MeasureIngest = (o: { url: string; centres: 1 | 4 | 16; records: number }) => Promise<IngestFigure>;
type MeasureQueries = (o: { url: string; studies: number }) => Promise<unknown>;

/** Figure 5: ingest with 1, 4 and 16 centres posting at once. */
export async function ingestFigures(url: string, records: number): Promise<Loaded<IngestFigure[]>> {
  const mod = await loadModule('receiver-ingest');
  const measure = mod?.measureIngest as MeasureIngest | undefined;
  if (!measure) return { ok: false, todo: 'TODO: bench/receiver-ingest.ts measureIngest() not present yet' };
  const out: IngestFigure[] = [];
  for (const centres of [1, 4, 16] as const) out.push(await measure({ url, centres, records }));
  return { ok: true, result: out };
}

/** Figure 6: query latency over `studies` stored studies. */
export async function queryFigures(url: string, studies: number): Promise<Loaded<unknown>> {
  const mod = await loadModule('receiver-query');
  const measure = mod?.measureQueries as MeasureQueries | undefined;
  if (!measure) return { ok: false, todo: 'TODO: bench/receiver-query.ts measureQueries() not present yet' };
  return { ok: true, result: await measure({ url, studies }) };
}

export interface QueryLatency {
  name: string;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

/**
 * The per-query percentiles from measureQueries' answer, whatever its exact shape: an array of
 * {name|kind|query, p50Ms, p95Ms, p99Ms}, or an object holding one under `figures` or `queries`, or keyed by name.
 */
export function queryLatencies(result: unknown): QueryLatency[] {
  const obj = result as Record<string, unknown> | unknown[] | null;
  const held = ['figures', 'queries'].map((k) => (obj as Record<string, unknown> | null)?.[k]).find(Array.isArray);
  const list = Array.isArray(obj) ? obj : held
    ? (held as unknown[])
    : Object.entries((obj as Record<string, unknown> | null) ?? {}).filter(([, v]) => typeof v === 'object' && v !== null).map(([k, v]) => ({ name: k, ...(v as object) }));
  return list.flatMap((q) => {
    const r = q as Record<string, unknown>;
    const num = (...keys: string[]) => Number(keys.map((k) => r[k]).find((x) => typeof x === 'number') ?? Number.NaN);
    const p95 = num('p95Ms', 'p95');
    if (Number.isNaN(p95)) return [];
    return [{ name: String(r.name ?? r.kind ?? r.query ?? 'query'), p50Ms: num('p50Ms', 'p50'), p95Ms: p95, p99Ms: num('p99Ms', 'p99') }];
  });
}
