import mysql from 'mysql2/promise';
import { CentreGenerator, type GeneratorOptions } from './generator.js';
import { hashSeed } from './prng.js';
import type { SiteInfo } from './rows.js';
import { ensureSchema } from './schema.js';
import { ChunkPreparer, prepareSession, writeChunk, type SeedCounts } from './writer.js';

export interface SeedProgress extends SeedCounts {
  totalStudies: number;
  seconds: number;
}

export interface SeedOptions extends GeneratorOptions {
  /** An open connection (left open; one writer) or options to open `jobs` connections (closed at the end). */
  db: mysql.Connection | mysql.ConnectionOptions;
  createSchema?: boolean;
  /** false: no instance rows (num_instances still filled), for very large benchmarks. */
  instances?: boolean;
  /** Studies per transaction. */
  chunkSize?: number;
  /** Connections writing chunks at once (default 2); the server's index upkeep is the bottleneck. */
  jobs?: number;
  onProgress?: (progress: SeedProgress) => void;
}

export interface SeedResult extends SeedCounts {
  seconds: number;
  /** Tables --create-schema created (empty when they all existed). */
  createdTables: string[];
}

const INSTITUTIONS = [
  'HOSPITAL CLÍNICO REGIONAL', 'HOSPITAL DEL SALVADOR', 'CLÍNICA SAN JOSÉ', 'HOSPITAL DE ÑUÑOA',
  'CESFAM PEÑALOLÉN', 'HOSPITAL SAN JUAN DE DIOS', 'CLÍNICA DÁVILA ORIENTE',
] as const;

export function siteInfo(center: string): SiteInfo {
  const institution = INSTITUTIONS[hashSeed('institution', center) % INSTITUTIONS.length] ?? 'HOSPITAL';
  return { aet: 'DCM4CHEE', institution };
}

function isConnection(db: SeedOptions['db']): db is mysql.Connection {
  return typeof (db as mysql.Connection).query === 'function';
}

/** Duplicate keys have two known causes; name them instead of passing on a bare driver error. */
function explain(err: unknown, opts: SeedOptions): unknown {
  const e = err as { code?: string; message?: string };
  if (e.code !== 'ER_DUP_ENTRY') return err;
  const message = /PRIMARY/.test(e.message ?? '')
    ? 'another writer inserted rows while seeding (duplicate pk): seed an idle pacsdb'
    : `centre ${opts.center} seed ${opts.seed ?? '1'} is already loaded in this database (duplicate UID): ` +
      'use another --seed or --center, or a fresh database';
  return new Error(message, { cause: err });
}

function add(totals: SeedCounts, counts: SeedCounts): void {
  totals.patients += counts.patients;
  totals.studies += counts.studies;
  totals.series += counts.series;
  totals.instances += counts.instances;
}

/**
 * Generates a centre's data and loads it into a dcm4chee 2.x pacsdb: chunks are generated and
 * turned into rows in order on this thread while up to `jobs` connections write earlier ones.
 */
export async function seedCentre(opts: SeedOptions): Promise<SeedResult> {
  const started = performance.now();
  const own = !isConnection(opts.db);
  const conns = [isConnection(opts.db) ? opts.db : await mysql.createConnection(opts.db)];
  try {
    const createdTables = opts.createSchema ? (await ensureSchema(conns[0]!)).created : [];
    for (let i = 1; own && i < Math.max(1, opts.jobs ?? 2); i++) {
      conns.push(await mysql.createConnection(opts.db as mysql.ConnectionOptions));
    }
    for (const conn of conns) await prepareSession(conn);
    const preparer = new ChunkPreparer(siteInfo(opts.center), opts.instances !== false);
    await preparer.init(conns[0]!);
    const gen = new CentreGenerator(opts);
    const totals: SeedCounts = { patients: 0, studies: 0, series: 0, instances: 0 };
    const free = [...conns];
    const running = new Set<Promise<void>>();
    while (!gen.done || running.size > 0) {
      const conn = gen.done ? undefined : free.pop();
      if (!conn) {
        await Promise.race(running);
        continue;
      }
      const prepared = preparer.prepare(gen.nextChunk(opts.chunkSize ?? 2000));
      const job: Promise<void> = writeChunk(conn, prepared).then(() => {
        add(totals, prepared.counts);
        opts.onProgress?.({ ...totals, totalStudies: gen.totalStudies, seconds: (performance.now() - started) / 1000 });
        running.delete(job);
        free.push(conn);
      });
      job.catch(() => undefined); // reported through Promise.race; never unhandled
      running.add(job);
    }
    return { ...totals, seconds: (performance.now() - started) / 1000, createdTables };
  } catch (err) {
    throw explain(err, opts);
  } finally {
    await closeAll(conns, own);
  }
}

/** Closes the connections seedCentre opened; a caller's connection gets its FK checks back. */
async function closeAll(conns: mysql.Connection[], own: boolean): Promise<void> {
  for (const [i, conn] of conns.entries()) {
    if (i === 0 && !own) await conn.query('SET SESSION foreign_key_checks = 1').catch(() => undefined);
    else await conn.end().catch(() => undefined);
  }
}
