import { pad, type Prng } from './prng.js';

/**
 * Chilean RUTs as PACS operators really store them: the same number in several spellings, plus
 * the hand-typed and non-RUT identifiers every site has. The index must cope with all of them.
 */

/** What kind of identifier a generated pat_id is; `rut` ones are well formed with a correct check digit. */
export type IdKind = 'rut' | 'rut-wrong-dv' | 'rut-spaces' | 'rut-leading-zeros' | 'passport' | 'internal';

/** The stored spellings of a well-formed RUT. */
export type RutStyle = 'dotted' | 'dashed' | 'plain';

/** Módulo 11: digits right to left times 2,3,4,5,6,7,2,3,…; 11 → 0, 10 → K. */
export function rutCheckDigit(body: number): string {
  let sum = 0;
  let factor = 2;
  for (let n = body; n > 0; n = Math.floor(n / 10)) {
    sum += (n % 10) * factor;
    factor = factor === 7 ? 2 : factor + 1;
  }
  const r = 11 - (sum % 11);
  return r === 11 ? '0' : r === 10 ? 'K' : String(r);
}

function dotted(body: number): string {
  return String(body).replace(/\B(?=(\d{3})+(?!\d))/g, '.');
}

export function formatRut(body: number, dv: string, style: RutStyle): string {
  switch (style) {
    case 'dotted':
      return `${dotted(body)}-${dv}`;
    case 'dashed':
      return `${body}-${dv}`;
    case 'plain':
      return `${body}${dv}`;
  }
}

const STYLES: ReadonlyArray<readonly [RutStyle, number]> = [
  ['dashed', 45],
  ['plain', 30],
  ['dotted', 25],
];

/** A well-formed spelling of the RUT, chosen per site and patient; `k` is lower-case at some sites. */
export function storedRut(body: number, rng: Prng): string {
  const dv = rutCheckDigit(body);
  const text = formatRut(body, dv, rng.weighted(STYLES));
  return dv === 'K' && rng.chance(0.4) ? text.toLowerCase() : text;
}

/** A wrong check digit (a typo), never the correct one. */
function wrongDigit(body: number, rng: Prng): string {
  const right = rutCheckDigit(body);
  const options = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'K'].filter((d) => d !== right);
  return rng.pick(options);
}

const PASSPORT_PREFIXES = ['P', 'AB', 'PE', 'BO', 'HT', 'VE', 'C'] as const;

/** A malformed or non-RUT identifier of the given kind. */
export function malformedId(kind: Exclude<IdKind, 'rut'>, body: number, rng: Prng): string {
  const dv = rutCheckDigit(body);
  switch (kind) {
    case 'rut-wrong-dv':
      return formatRut(body, wrongDigit(body, rng), rng.weighted(STYLES));
    case 'rut-spaces':
      return rng.pick([
        ` ${body}-${dv}`,
        `${body}-${dv} `,
        `${body} - ${dv}`,
        `${dotted(body).replace(/\./g, ' ')}-${dv}`,
        `${body} ${dv}`,
      ]);
    case 'rut-leading-zeros':
      return rng.chance(0.5) ? `${pad(body, 9)}-${dv}` : `00${body}${dv}`;
    case 'passport':
      return `${rng.pick(PASSPORT_PREFIXES)}${pad(rng.int(0, 9_999_999), 7)}`;
    case 'internal':
      return rng.pick(['HC', 'NN', 'PAC', 'TEMP']) + `-${pad(rng.int(1, 999_999), 6)}`;
  }
}

const KINDS: ReadonlyArray<readonly [IdKind, number]> = [
  ['rut', 920],
  ['rut-wrong-dv', 20],
  ['rut-spaces', 15],
  ['rut-leading-zeros', 15],
  ['passport', 20],
  ['internal', 10],
];

export function pickIdKind(rng: Prng): IdKind {
  return rng.weighted(KINDS);
}

/**
 * A plausible RUT number for someone born in `birthYear`: numbers are handed out roughly in birth
 * order (about 3M in 1930, 21M in 2000, 27M today), with spread for late registration.
 */
export function rutBodyFor(birthYear: number, rng: Prng): number {
  const centre = 500_000 + (birthYear - 1920) * 255_000;
  const body = centre + rng.int(-1_200_000, 1_200_000);
  return Math.min(28_999_999, Math.max(1_000_000, body));
}
