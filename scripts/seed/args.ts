import { parseArgs } from 'node:util';

/** A bad command-line value: names the flag, the value and what was expected (the CLI exits 2). */
export class SeedArgumentError extends Error {
  constructor(flag: string, value: string | undefined, expected: string) {
    super(value === undefined ? `${flag} is required: expected ${expected}` : `${flag} "${value}" is invalid: expected ${expected}`);
    this.name = 'SeedArgumentError';
  }
}

/** parseArgs' own complaint (unknown option, missing value), kept as it names the option. */
class SeedUsageError extends SeedArgumentError {
  constructor(message: string) {
    super('', undefined, '');
    this.message = `${message.split('. To specify')[0]}; see --help`;
  }
}

export interface SeedCliOptions {
  studies: number;
  center: string;
  seed: string;
  sharedPatients: number;
  sharedSeed: string;
  db: string | undefined;
  createSchema: boolean;
  instances: boolean;
  chunkSize: number;
  jobs: number;
  quiet: boolean;
}

export const USAGE = `Usage: npm run seed -- --studies N --center CODE [options]

Loads realistic dcm4chee 2.x data (patients, studies, series, instances) into a pacsdb.

  --studies N            number of studies to create (1 to 100000000)
  --center CODE          centre code; part of every random stream and UID
  --seed S               random seed (default 1): the same seed gives the same data
  --db URL               mysql://user:password@host:3306/pacsdb (default: INDEXER_DB_* variables)
  --create-schema        create the dcm4chee tables that are missing
  --shared-patients F    fraction of patients shared with other centres, 0 to 1 (default 0.1)
  --shared-seed S        seed of the pool of shared people (default "shared"); keep it equal across centres
  --no-instances         skip instance rows (num_instances stays filled); for the 1M benchmark
  --chunk N              studies per transaction (default 2000)
  --jobs N               connections writing at once (default 2); the pacsdb must be otherwise idle
  --quiet                only the final summary
  --help                 this text`;

const OPTIONS = {
  studies: { type: 'string' },
  center: { type: 'string' },
  seed: { type: 'string' },
  db: { type: 'string' },
  'create-schema': { type: 'boolean' },
  'shared-patients': { type: 'string' },
  'shared-seed': { type: 'string' },
  'no-instances': { type: 'boolean' },
  chunk: { type: 'string' },
  jobs: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function wholeNumber(flag: string, text: string | undefined, min: number, max: number, fallback?: number): number {
  if (text === undefined && fallback !== undefined) return fallback;
  const expected = `a whole number from ${min} to ${max}`;
  if (text === undefined || !/^\d+$/.test(text.replace(/_/g, ''))) throw new SeedArgumentError(flag, text, expected);
  const n = Number(text.replace(/_/g, ''));
  if (n < min || n > max) throw new SeedArgumentError(flag, text, expected);
  return n;
}

function fraction(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new SeedArgumentError(flag, text, 'a fraction from 0 to 1, e.g. 0.2');
  }
  return n;
}

function centerCode(text: string | undefined): string {
  // Same rule as the agent's `center` setting, so seeded centres can be indexed as they are.
  if (text === undefined || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/.test(text)) {
    throw new SeedArgumentError('--center', text, '1 to 32 letters, digits, "_", "-" or "." (e.g. 000)');
  }
  return text;
}

/** Parses the seeder's arguments; `help` when --help was asked for. */
export function parseSeedArgs(argv: string[]): SeedCliOptions | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new SeedUsageError((err as Error).message);
  }
  if (values.help) return 'help';
  const str = (k: string) => values[k] as string | undefined;
  const seed = str('seed') ?? '1';
  if (seed.trim() === '') throw new SeedArgumentError('--seed', seed, 'a non-empty seed, e.g. 42');
  return {
    studies: wholeNumber('--studies', str('studies'), 1, 100_000_000),
    center: centerCode(str('center')),
    seed,
    sharedPatients: fraction('--shared-patients', str('shared-patients'), 0.1),
    sharedSeed: str('shared-seed') ?? 'shared',
    db: str('db'),
    createSchema: values['create-schema'] === true,
    instances: values['no-instances'] !== true,
    chunkSize: wholeNumber('--chunk', str('chunk'), 1, 100_000, 2000),
    jobs: wholeNumber('--jobs', str('jobs'), 1, 16, 2),
    quiet: values.quiet === true,
  };
}
