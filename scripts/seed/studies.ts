import { MODALITY_MIX, PROFILES, SECONDARY_SERIES, SOP_CLASS, STATIONS, type SeriesTemplate } from './catalog.js';
import { hashSeed, pad, type Prng } from './prng.js';

export interface SeedSeries {
  uid: string;
  number: number;
  modality: string;
  bodyPart: string | null;
  description: string | null;
  sopCuid: string;
  station: string;
  instances: number;
}

/** One `study` row with its series; derived fields are computed from the series, as dcm4chee does. */
export interface SeedStudy {
  index: number;
  /** Index of the centre's patient (SeedPatient.index). */
  patientIndex: number;
  uid: string;
  studyId: string | null;
  /** `YYYY-MM-DD HH:MM:SS`, or null (StudyDate missing, as some modalities send). */
  datetime: string | null;
  createdTime: string;
  accessionNo: string | null;
  refPhysician: string | null;
  description: string | null;
  /** mods_in_study: the series' distinct modalities joined with `\`. */
  modalities: string;
  cuids: string;
  numSeries: number;
  numInstances: number;
  series: SeedSeries[];
}

/** What a study needs from its centre besides the random stream. */
export interface StudyContext {
  uidRoot: string;
  totalStudies: number;
  physicians: readonly string[];
}

/** A root under 2.25 (UUID-derived UIDs), distinct per seed and centre, so centres never collide. */
export function uidRoot(seed: string, center: string): string {
  const a = 1_000_000_000 + (hashSeed('uid-a', seed, center) % 3_000_000_000);
  const b = hashSeed('uid-b', seed, center);
  return `2.25.${a}${pad(b, 10)}`;
}

export function sqlDatetime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

const FIRST_DAY = Date.UTC(2006, 0, 1);
const LAST_DAY = Date.UTC(2025, 5, 30);

/**
 * When study `index` arrived: archives fill in time order and grow over the years (the square
 * root gives later years more studies), so created_time and most date indexes grow with the pk, as
 * at a real site. That also keeps the tables' many date indexes append-mostly, which is what lets
 * a large seed run faster than the server's buffer pool would otherwise allow.
 */
function arrival(ctx: StudyContext, index: number): number {
  const frac = ctx.totalStudies <= 1 ? 1 : index / (ctx.totalStudies - 1);
  return FIRST_DAY + Math.sqrt(frac) * (LAST_DAY - FIRST_DAY);
}

/** StudyDate+Time: usually hours before arrival; some are priors imported years later; a few missing. */
function studyTime(arrivedAt: number, rng: Prng): number | null {
  const roll = rng.next();
  if (roll < 0.03) return null;
  const back = roll < 0.07 ? rng.int(30, 3000) * 86_400_000 : rng.int(5, 600) * 60_000;
  const t = Math.max(Date.UTC(1995, 0, 1), arrivedAt - back);
  return t - (t % 1000);
}

function seriesFrom(tpl: SeriesTemplate, modality: string, bodyPart: string | null, rng: Prng): Omit<SeedSeries, 'uid' | 'number'> {
  const [description, min, max] = tpl;
  return {
    modality,
    bodyPart,
    description: description === '' ? null : description,
    sopCuid: SOP_CLASS[modality] ?? SOP_CLASS.CR!,
    station: rng.pick(STATIONS[modality] ?? ['STATION']),
    instances: rng.int(min, max),
  };
}

function seriesOf(modalities: readonly string[], rng: Prng): { description: string; series: Array<Omit<SeedSeries, 'uid' | 'number'>> } {
  const [primary = 'CR', ...secondary] = modalities;
  const profile = PROFILES[primary] ?? PROFILES.CR!;
  const exam = rng.pick(profile.exams);
  const out = profile.base.map((tpl) => seriesFrom(tpl, primary, exam.bodyPart, rng));
  const extras = [...profile.extra];
  for (let n = rng.int(0, profile.maxExtra); n > 0 && extras.length > 0; n--) {
    const [tpl] = extras.splice(rng.int(0, extras.length - 1), 1);
    if (tpl) out.push(seriesFrom(tpl, primary, exam.bodyPart, rng));
  }
  for (const mod of secondary) {
    const tpl = SECONDARY_SERIES[mod];
    if (tpl) out.push(seriesFrom(tpl, mod, null, rng));
  }
  return { description: exam.description, series: out };
}

function nullable(value: string, rng: Prng, pNull: number, pEmpty: number): string | null {
  const roll = rng.next();
  return roll < pNull ? null : roll < pNull + pEmpty ? '' : value;
}

function distinctJoined(values: readonly string[]): string {
  return [...new Set(values)].join('\\');
}

export function makeStudy(ctx: StudyContext, index: number, patientIndex: number, rng: Prng): SeedStudy {
  const modalities = rng.weighted(MODALITY_MIX);
  const { description, series: drafts } = seriesOf(modalities, rng);
  const uid = `${ctx.uidRoot}${pad(index + 1, 9)}`;
  const series = drafts.map((s, i) => {
    const number = s.modality === 'SR' || s.modality === 'PR' ? 900 + i : i + 1;
    return { ...s, uid: `${uid}.${number}`, number };
  });
  const arrived = arrival(ctx, index);
  const at = studyTime(arrived, rng);
  const datetime = at === null ? null : sqlDatetime(at);
  const createdTime = sqlDatetime(arrived);
  // The RIS numbers orders as they come: the year of arrival, then a running number.
  const accession = `${createdTime.slice(0, 4)}${pad(index + 1, 7)}`;
  return {
    index,
    patientIndex,
    uid,
    studyId: rng.chance(0.5) ? accession : String(index + 1),
    datetime,
    createdTime,
    accessionNo: nullable(accession, rng, 0.04, 0.02),
    refPhysician: rng.chance(0.2) ? null : rng.pick(ctx.physicians),
    description: nullable(description, rng, 0.02, 0.01),
    modalities: distinctJoined(series.map((s) => s.modality)),
    cuids: distinctJoined(series.map((s) => s.sopCuid)),
    numSeries: series.length,
    numInstances: series.reduce((n, s) => n + s.instances, 0),
    series,
  };
}
