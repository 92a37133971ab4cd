import { hashSeed, pad, Prng } from './prng.js';
import { malformedId, pickIdKind, rutBodyFor, storedRut, type IdKind } from './rut.js';
import { pickName, toPn, type PersonName } from './names.js';

/** One row of `patient` as the seeder writes it. */
export interface SeedPatient {
  /** Position in the centre's patient list (0-based); the writer maps it to a pk. */
  index: number;
  patId: string;
  idKind: IdKind;
  /** The RUT number behind patId (null for passports and internal numbers). */
  rutBody: number | null;
  issuer: string | null;
  name: string;
  /** `YYYYMMDD`; a few empty, null or impossible (e.g. 19800231) as sites have them. */
  birthDate: string | null;
  sex: string | null;
  /** Index in the shared pool when this person also has studies at other centres. */
  sharedIndex: number | null;
  /** Set by the generator: when the person's first study arrived (the row's created_time). */
  createdTime: string | null;
}

/** Who a person is, independent of how a given site spells it. */
interface Identity {
  idKind: IdKind;
  rutBody: number | null;
  name: PersonName;
  birthDate: string | null;
  sex: string | null;
}

function birthDate(year: number, rng: Prng): string | null {
  const roll = rng.next();
  if (roll < 0.008) return null;
  if (roll < 0.016) return '';
  if (roll < 0.022) return rng.pick([`${year}0231`, `${year}0230`, `${year}1304`, `${year}0000`, '00000000']);
  const month = rng.int(1, 12);
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return `${year}${pad(month, 2)}${pad(rng.int(1, days), 2)}`;
}

function identity(rng: Prng, forceRut: boolean): Identity {
  const year = rng.weighted([
    [rng.int(1930, 1959), 25],
    [rng.int(1960, 1989), 40],
    [rng.int(1990, 2023), 35],
  ] as const);
  const sex = rng.weighted([['M', 480], ['F', 500], ['O', 10], [null, 10]] as const);
  const idKind = forceRut ? 'rut' : pickIdKind(rng);
  const rutBody = idKind === 'passport' || idKind === 'internal' ? null : rutBodyFor(year, rng);
  return { idKind, rutBody, name: pickName(sex, rng), birthDate: birthDate(year, rng), sex };
}

/** How this site stores the identity: its RUT spelling, PN layout and accents are its own. */
function siteView(id: Identity, index: number, sharedIndex: number | null, rng: Prng): SeedPatient {
  const body = id.rutBody ?? rng.int(1_000_000, 27_999_999);
  const patId = id.idKind === 'rut' ? storedRut(body, rng) : malformedId(id.idKind, body, rng);
  return {
    index,
    patId,
    idKind: id.idKind,
    rutBody: id.rutBody,
    issuer: id.idKind === 'passport' ? 'PASAPORTE' : null,
    name: toPn(id.name, rng, rng.chance(0.12)),
    birthDate: id.birthDate,
    sex: id.sex,
    sharedIndex,
    createdTime: null,
  };
}

export interface PeopleOptions {
  seed: string;
  center: string;
  sharedSeed: string;
  /** Fraction of the centre's patients drawn from the shared pool, 0 to 1. */
  sharedFraction: number;
}

/**
 * Patient `index` of a centre. Shared people are members 0, 1, 2… of one pool built from the shared
 * seed, so every centre with a shared fraction draws the same first members: a person then has the
 * same RUT (spelt the site's way), name and birth date wherever they were imaged.
 */
export function makePatient(opts: PeopleOptions, index: number): SeedPatient {
  const f = opts.sharedFraction;
  const isShared = f > 0 && Math.floor((index + 1) * f) > Math.floor(index * f);
  const site = new Prng(hashSeed('patient', opts.seed, opts.center, index));
  if (!isShared) return siteView(identity(site, false), index, null, site);
  const member = Math.floor(index * f);
  const shared = identity(new Prng(hashSeed('shared-patient', opts.sharedSeed, member)), true);
  return siteView(shared, index, member, site);
}
