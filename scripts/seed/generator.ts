import { physicianName } from './names.js';
import { makePatient, type PeopleOptions, type SeedPatient } from './people.js';
import { hashSeed, Prng } from './prng.js';
import { makeStudy, uidRoot, type SeedStudy, type StudyContext } from './studies.js';

export interface GeneratorOptions {
  /** Centre code; also part of every random stream, so two centres never share studies. */
  center: string;
  studies: number;
  seed?: string;
  /** Fraction of patients who also have studies at other centres (same shared seed), 0 to 1. */
  sharedPatients?: number;
  /** Seed of the pool of people shared by all centres; the same across centres to make overlap. */
  sharedSeed?: string;
}

/** Studies of a chunk, with the patients that first appear in it (to insert before their studies). */
export interface Chunk {
  patients: SeedPatient[];
  studies: SeedStudy[];
}

/** Patients have about 2.4 studies each on average; a few have many. */
const STUDIES_PER_PATIENT = 2.4;

export function patientCount(studies: number): number {
  return studies <= 0 ? 0 : Math.max(1, Math.round(studies / STUDIES_PER_PATIENT));
}

/**
 * A centre's data as a stream of chunks: pure and deterministic (same options, same data,
 * whatever the chunk size), so 1M studies never need to sit in memory at once.
 */
export class CentreGenerator {
  readonly totalStudies: number;
  readonly totalPatients: number;
  private readonly people: PeopleOptions;
  private readonly ctx: StudyContext;
  private readonly rng: Prng;
  private nextStudy = 0;
  private usedPatients = 0;

  constructor(opts: GeneratorOptions) {
    const seed = opts.seed ?? '1';
    this.totalStudies = opts.studies;
    this.totalPatients = patientCount(opts.studies);
    this.people = {
      seed,
      center: opts.center,
      sharedSeed: opts.sharedSeed ?? 'shared',
      sharedFraction: opts.sharedPatients ?? 0,
    };
    const staff = new Prng(hashSeed('physicians', seed, opts.center));
    this.ctx = {
      uidRoot: uidRoot(seed, opts.center),
      totalStudies: opts.studies,
      physicians: Array.from({ length: 30 }, () => physicianName(staff)),
    };
    this.rng = new Prng(hashSeed('studies', seed, opts.center));
  }

  get done(): boolean {
    return this.nextStudy >= this.totalStudies;
  }

  /**
   * Every patient is used exactly once as "new" by the end: the chance of a new patient is the
   * share of new patients left among studies left; otherwise a returning patient.
   */
  private choosePatient(): { index: number; isNew: boolean } {
    const newLeft = this.totalPatients - this.usedPatients;
    const studiesLeft = this.totalStudies - this.nextStudy;
    if (this.usedPatients === 0 || this.rng.next() * studiesLeft < newLeft) {
      return { index: this.usedPatients++, isNew: true };
    }
    return { index: this.rng.int(0, this.usedPatients - 1), isNew: false };
  }

  /** Adds the next `count` studies (fewer at the end) to `chunk`; how it is sliced never changes the data. */
  extend(chunk: Chunk, count: number): void {
    const end = Math.min(this.totalStudies, this.nextStudy + Math.max(0, count));
    for (; this.nextStudy < end; this.nextStudy++) {
      const { index, isNew } = this.choosePatient();
      const study = makeStudy(this.ctx, this.nextStudy, index, this.rng);
      if (isNew) chunk.patients.push({ ...makePatient(this.people, index), createdTime: study.createdTime });
      chunk.studies.push(study);
    }
  }

  nextChunk(size: number): Chunk {
    const chunk: Chunk = { patients: [], studies: [] };
    this.extend(chunk, size);
    return chunk;
  }

  *chunks(size: number): Generator<Chunk> {
    while (!this.done) yield this.nextChunk(size);
  }
}
