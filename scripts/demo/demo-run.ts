import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import mysql from 'mysql2/promise';
import { Dcm4cheeWriter } from '../../test/helpers/dcm4chee-writer.js';
import { seedCentre } from '../seed/run.js';
import { freePort } from '../lib/free-port.js';
import { withDatabase } from '../lib/mysql-url.js';
import { provideMysqlServer, type ProvidedServer } from '../lib/mysql-provider.js';
import {
  AGENT_CLI, RECEIVER_CLI, lastLine, runNodeOk, runSummary, startNode, stopChild, waitForHttp,
} from './processes.js';

export interface DemoOptions {
  studies: number;
  env: NodeJS.ProcessEnv;
  say: (line: string) => void;
  /** Aborted on Ctrl-C: the run stops at the next step and cleans up. */
  signal: AbortSignal;
}

interface Centre {
  code: string;
  name: string;
  db: string;
  key: string;
}

const CENTRES = [
  { code: '001', name: 'Hospital Clínico Regional' },
  { code: '002', name: 'Hospital de Ñuñoa' },
];

/** Everything the demo started, torn down in reverse order whatever happened. */
class Resources {
  server: ProvidedServer | undefined;
  admin: mysql.Connection | undefined;
  databases: string[] = [];
  receiver: ChildProcess | undefined;

  async close(): Promise<void> {
    await stopChild(this.receiver);
    if (this.admin) {
      for (const db of this.databases) await this.admin.query(`DROP DATABASE IF EXISTS \`${db}\``).catch(() => undefined);
      await this.admin.end().catch(() => undefined);
    }
    await this.server?.stop();
  }
}

function agentEnv(base: NodeJS.ProcessEnv, url: URL, db: string, receiverUrl: string, c: Centre): NodeJS.ProcessEnv {
  return {
    ...base,
    INDEXER_DB_HOST: url.hostname, INDEXER_DB_PORT: url.port || '3306',
    INDEXER_DB_USER: decodeURIComponent(url.username || 'root'), INDEXER_DB_PASSWORD: decodeURIComponent(url.password),
    INDEXER_DB_NAME: db, INDEXER_URL: receiverUrl, INDEXER_KEY: c.key, INDEXER_CENTER: c.code, INDEXER_LOG_FORMAT: 'json',
  };
}

function describeSummary(stderr: string): string {
  const s = runSummary(stderr);
  if (!s) return 'done';
  return `read ${String(s.read)}, sent ${String(s.sent)}, tombstones ${String(s.tombstones ?? 0)}, rejected ${String(s.rejected ?? 0)} in ${String(s.duration_ms)} ms`;
}

/** Two dcm4chee databases, seeded like production sites (latin1, realistic data). */
async function createCentres(r: Resources, server: ProvidedServer, studies: number, suffix: string, say: (l: string) => void): Promise<Centre[]> {
  const centres: Centre[] = [];
  for (const c of CENTRES) {
    const db = `pacsdb_demo_${c.code}_${suffix}`;
    await r.admin!.query(`CREATE DATABASE \`${db}\` DEFAULT CHARACTER SET latin1`);
    r.databases.push(db);
    const res = await seedCentre({
      db: { uri: withDatabase(server.url, db), charset: 'utf8mb4' }, center: c.code, studies,
      seed: 'demo', sharedPatients: 0.2, sharedSeed: 'demo-shared', createSchema: true,
    });
    say(`      centre ${c.code} ${c.name}: ${res.patients} patients, ${res.studies} studies, ${res.series} series (${res.seconds.toFixed(1)} s)`);
    centres.push({ ...c, db, key: '' });
  }
  return centres;
}

/** The receiver as the central team runs it: migrate, centres and a token by CLI, then serve. */
async function startCentral(r: Resources, opts: DemoOptions, centres: Centre[], suffix: string): Promise<{ base: string; token: string }> {
  const central = `indexer_demo_central_${suffix}`;
  await r.admin!.query(`CREATE DATABASE \`${central}\` DEFAULT CHARACTER SET utf8mb4`);
  r.databases.push(central);
  const port = await freePort();
  const renv = { ...opts.env, RECEIVER_DATABASE_URL: withDatabase(r.server!.url, central), RECEIVER_HOST: '127.0.0.1', RECEIVER_PORT: String(port) };
  await runNodeOk(RECEIVER_CLI, ['migrate'], renv);
  for (const c of centres) c.key = lastLine((await runNodeOk(RECEIVER_CLI, ['centers', 'add', c.code, '--name', c.name], renv)).stdout);
  const token = lastLine((await runNodeOk(RECEIVER_CLI, ['tokens', 'add', 'central-team'], renv)).stdout);
  r.receiver = startNode(RECEIVER_CLI, ['serve'], renv);
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/readyz`, r.receiver, 30);
  return { base, token };
}

/** Runs the whole system end to end and narrates it; returns the answers it printed. */
export async function runDemo(opts: DemoOptions): Promise<{ crossCentre: unknown[]; centres: unknown[] }> {
  const { say, signal } = opts;
  const r = new Resources();
  const step = (n: number, text: string) => {
    signal.throwIfAborted();
    say(`\n[${n}/8] ${text}`);
  };
  try {
    step(1, 'A MySQL-compatible server');
    const server = (r.server = await provideMysqlServer(opts.env));
    say(`      using ${server.kind === 'env' ? 'INDEXER_DEMO_MYSQL_URL' : server.kind} (${new URL(server.url).host})`);
    r.admin = await mysql.createConnection({ uri: server.url, charset: 'utf8mb4' });
    const suffix = randomBytes(3).toString('hex');

    step(2, `Two dcm4chee 2.x PACS databases (latin1, like production) with ${opts.studies} studies each`);
    const centres = await createCentres(r, server, opts.studies, suffix, say);

    step(3, 'The central receiver: migrate, register the centres and a read token, serve');
    const { base, token } = await startCentral(r, opts, centres, suffix);
    say(`      receiver on ${base}; centre keys and a read token issued (shown to nobody here)`);

    const envOf = (c: Centre) => agentEnv(opts.env, new URL(server.url), c.db, base, c);
    const agents = async (command: string, describe: (stderr: string) => string) => {
      for (const c of centres) say(`      centre ${c.code}: ${describe((await runNodeOk(AGENT_CLI, [command], envOf(c))).stderr)}`);
    };
    step(4, '`indexer install` at each centre: change queue + triggers in pacsdb');
    await agents('install', () => 'capture objects installed');
    step(5, '`indexer initial` at each centre: every study, once');
    await agents('initial', describeSummary);
    step(6, 'dcm4chee-like changes: a new study, its series arriving, a patient rename, a deletion');
    const patientId = await makeChanges(r.admin, centres, say);
    step(7, '`indexer sync` at each centre (what cron runs every 5 minutes)');
    await agents('sync', describeSummary);
    step(8, 'The central team asks the aggregate index');
    return await query(base, token, patientId, say);
  } finally {
    say('\ncleaning up: receiver stopped, demo databases dropped');
    await r.close();
  }
}

/** The writes a PACS makes, on the same patient seen by both centres under two RUT spellings. */
async function makeChanges(admin: mysql.Connection, centres: Centre[], say: (l: string) => void): Promise<string> {
  const [a, b] = centres as [Centre, Centre];
  await admin.query(`USE \`${a.db}\``);
  const wa = new Dcm4cheeWriter(admin);
  const pa = await wa.createPatient({ patId: '12.345.678-5', name: 'PENA^MARIA JOSE', birthdate: '19750412', sex: 'F' });
  const sa = await wa.storeStudy(pa, { datetime: '2026-11-20 09:15:00', desc: 'TC DE TÓRAX', accession: 'A-2026-0001' });
  say(`      centre ${a.code}: new study stored (0 series, 0 instances, as dcm4chee first writes it)`);
  await wa.addSeries(sa, { modality: 'CT', instances: 212 });
  await wa.addSeries(sa, { modality: 'SR', instances: 1 });
  say(`      centre ${a.code}: two series arrived (CT 212 images, SR 1): counts updated`);
  await wa.renamePatient(pa, 'PEÑA^MARÍA JOSÉ');
  say(`      centre ${a.code}: patient name corrected (accents restored)`);
  const [old] = await admin.query<mysql.RowDataPacket[]>('SELECT pk FROM study ORDER BY pk LIMIT 1');
  await wa.deleteStudy(Number(old[0]!.pk));
  say(`      centre ${a.code}: one old study deleted (moved to the trash tables)`);
  await admin.query(`USE \`${b.db}\``);
  const wb = new Dcm4cheeWriter(admin);
  const pb = await wb.createPatient({ patId: '12345678-5', name: 'PEÑA^MARÍA JOSÉ', birthdate: '19750412', sex: 'F' });
  const sb = await wb.storeStudy(pb, { datetime: '2026-11-21 16:40:00', desc: 'RM CEREBRO', accession: 'B-77120' });
  await wb.addSeries(sb, { modality: 'MR', instances: 180 });
  say(`      centre ${b.code}: the same patient (RUT written 12345678-5) has an MR study`);
  return '12.345.678-5';
}

async function getJson(url: string, token: string): Promise<Record<string, unknown>> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`GET ${new URL(url).pathname} answered ${res.status}`);
  return (await res.json()) as Record<string, unknown>;
}

async function query(base: string, token: string, patientId: string, say: (l: string) => void) {
  const studies = await getJson(`${base}/api/v2/patients/${encodeURIComponent(patientId)}/studies`, token);
  const crossCentre = studies.items as Record<string, unknown>[];
  say(`      GET /api/v2/patients/${patientId}/studies → ${crossCentre.length} studies:`);
  for (const s of crossCentre) {
    say(`        centre ${String(s.center)}  ${String(s.study_datetime)}  ${String(s.study_modality).padEnd(6)} ${String(s.study_description).padEnd(12)} ` +
      `${String(s.study_series)} series / ${String(s.study_instances)} images  patient ${String(s.patient_id)} ${String(s.patient_name)}`);
  }
  const list = await getJson(`${base}/api/v2/centers`, token);
  const centres = list.items as Record<string, unknown>[];
  say('      GET /api/v2/centers →');
  for (const c of centres) say(`        ${String(c.code)}  ${String(c.name).padEnd(26)} ${String(c.studies)} live studies, last seen ${String(c.last_seen)}`);
  return { crossCentre, centres };
}
