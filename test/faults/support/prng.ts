/** The seeded PRNG of the data generator (mulberry32): the fault suite's random kill points are reproducible. */
export { Prng } from '../../../scripts/seed/prng.js';

/** The seed of a run: FAULT_SEED reproduces a failing run; otherwise fixed per file. */
export function faultSeed(fallback: number): number {
  const fromEnv = Number(process.env.FAULT_SEED);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : fallback;
}
