import { parseArgs } from 'node:util';

/** Sizes of one benchmark run: quick by default (≤ 3 min on 2 cores), `--full` for the large ones. */
export interface BenchOptions {
  full: boolean;
  studies: number;
  legacySample: number;
  changes: number;
  changesPerSecond: number;
  triggerStudies: number;
  triggerCycles: number;
  ingestRecords: number;
  queryStudies: number;
  idleRuns: number;
  /** Studies in the Orthanc the `dimse` source crawls (figure 8). */
  dimseStudies: number;
  out: string;
  /** Figures to run (1-8); 1-7 by default (8 needs Orthanc and python3-pydicom, and is asked for by name). */
  only: Set<number>;
  help: boolean;
}

export const BENCH_USAGE = `usage: npm run bench [-- --help] [--full] [--studies N] [--legacy-sample N] [--changes N] [--pace N]
  [--trigger-studies N] [--ingest-records N] [--query-studies N] [--idle-runs N] [--dimse-studies N] [--only 1,3,7] [--out FILE]
A MySQL-compatible server: INDEXER_BENCH_MYSQL_URL, else Docker, else a private throwaway mariadbd.
Every figure runs by default; figure 8 (the dimse source's C-FIND crawl) needs Orthanc, DCMTK and python3-pydicom; --only picks figures, e.g. --only 1,8.
`;

const QUICK = {
  studies: 100_000, legacySample: 5_000, changes: 200, changesPerSecond: 10, triggerStudies: 200, triggerCycles: 2,
  ingestRecords: 20_000, queryStudies: 100_000, idleRuns: 5, dimseStudies: 300,
};
const FULL = {
  studies: 1_000_000, legacySample: 20_000, changes: 400, changesPerSecond: 5, triggerStudies: 600, triggerCycles: 3,
  ingestRecords: 200_000, queryStudies: 1_000_000, idleRuns: 10, dimseStudies: 2_000,
};

function whole(name: string, text: string | undefined, fallback: number, min = 1): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number ≥ ${min}, got ${JSON.stringify(text)}`);
  return n;
}

export function parseBenchOptions(argv: string[]): BenchOptions {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      full: { type: 'boolean', default: false }, help: { type: 'boolean', default: false },
      studies: { type: 'string' }, 'legacy-sample': { type: 'string' }, changes: { type: 'string' }, pace: { type: 'string' },
      'trigger-studies': { type: 'string' }, 'trigger-cycles': { type: 'string' }, 'ingest-records': { type: 'string' },
      'query-studies': { type: 'string' }, 'idle-runs': { type: 'string' }, 'dimse-studies': { type: 'string' }, only: { type: 'string' }, out: { type: 'string' },
    },
    strict: true,
  });
  const d = v.full ? FULL : QUICK;
  const only = v.only ? v.only.split(',').map((s) => whole('only', s.trim(), 0)) : [1, 2, 3, 4, 5, 6, 7, 8];
  if (only.some((n) => n > 8)) throw new Error('--only takes figure numbers 1 to 8');
  return {
    full: Boolean(v.full),
    studies: whole('studies', v.studies, d.studies),
    legacySample: whole('legacy-sample', v['legacy-sample'], d.legacySample),
    changes: whole('changes', v.changes, d.changes),
    changesPerSecond: whole('pace', v.pace, d.changesPerSecond),
    triggerStudies: whole('trigger-studies', v['trigger-studies'], d.triggerStudies),
    triggerCycles: whole('trigger-cycles', v['trigger-cycles'], d.triggerCycles),
    ingestRecords: whole('ingest-records', v['ingest-records'], d.ingestRecords),
    queryStudies: whole('query-studies', v['query-studies'], d.queryStudies),
    idleRuns: whole('idle-runs', v['idle-runs'], d.idleRuns),
    dimseStudies: whole('dimse-studies', v['dimse-studies'], d.dimseStudies),
    out: v.out ?? 'bench/results.json',
    only: new Set(only),
    help: Boolean(v.help),
  };
}
