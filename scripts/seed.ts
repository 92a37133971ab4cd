#!/usr/bin/env node
/**
 * `npm run seed -- --studies N --center X [...]`: loads realistic dcm4chee 2.x data into a pacsdb.
 * The only seeder file that touches process: argv, env, output and the exit code.
 */
import { parseSeedArgs, SeedArgumentError, USAGE } from './seed/args.js';
import { targetFromEnv, targetFromUrl } from './seed/connection.js';
import { seedCentre, type SeedProgress } from './seed/run.js';

const EXIT_USAGE = 2;

function formatProgress(p: SeedProgress): string {
  const pct = Math.floor((100 * p.studies) / p.totalStudies);
  return `seed: ${p.studies}/${p.totalStudies} studies (${pct}%), ${p.instances} instances, ${p.seconds.toFixed(1)} s`;
}

async function main(argv: string[]): Promise<number> {
  const opts = parseSeedArgs(argv);
  if (opts === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const target = opts.db ? targetFromUrl(opts.db) : targetFromEnv(process.env);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  if (!opts.quiet) log(`seed: centre ${opts.center}, ${opts.studies} studies, seed ${opts.seed} into ${target.label}`);
  let lastPrint = 0;
  const result = await seedCentre({
    db: target.options,
    center: opts.center,
    studies: opts.studies,
    seed: opts.seed,
    sharedPatients: opts.sharedPatients,
    sharedSeed: opts.sharedSeed,
    createSchema: opts.createSchema,
    instances: opts.instances,
    chunkSize: opts.chunkSize,
    jobs: opts.jobs,
    onProgress: (p) => {
      if (opts.quiet || (p.seconds - lastPrint < 2 && p.studies < p.totalStudies)) return;
      lastPrint = p.seconds;
      log(formatProgress(p));
    },
  });
  if (result.createdTables.length > 0) log(`seed: created tables ${result.createdTables.join(', ')}`);
  const rate = Math.round(result.studies / Math.max(result.seconds, 0.001));
  process.stdout.write(
    `seeded centre ${opts.center}: ${result.patients} patients, ${result.studies} studies, ${result.series} series, ` +
      `${result.instances} instances in ${result.seconds.toFixed(1)} s (${rate} studies/s)\n`,
  );
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof SeedArgumentError) {
      process.stderr.write(`seed: ${err.message}\n`);
      process.exitCode = EXIT_USAGE;
      return;
    }
    const e = err as { code?: string; message?: string };
    process.stderr.write(`seed: failed: ${e.code ? `${e.code} ` : ''}${e.message ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
