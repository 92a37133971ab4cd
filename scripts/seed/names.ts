import type { Prng } from './prng.js';

/**
 * Chilean names as DICOM PN (upper-case, `FAMILY^GIVEN^MIDDLE`). Every character is in latin1, the
 * charset of dcm4chee 2.x columns, so a name survives the trip through the utf8mb4 connection.
 */

export const SURNAMES = [
  'GONZÁLEZ', 'MUÑOZ', 'ROJAS', 'DÍAZ', 'PÉREZ', 'SOTO', 'CONTRERAS', 'SILVA', 'MARTÍNEZ', 'SEPÚLVEDA',
  'MORALES', 'RODRÍGUEZ', 'LÓPEZ', 'FUENTES', 'HERNÁNDEZ', 'TORRES', 'ARAYA', 'FLORES', 'ESPINOZA',
  'VALENZUELA', 'CASTILLO', 'TAPIA', 'REYES', 'GUTIÉRREZ', 'CASTRO', 'PIZARRO', 'ÁLVAREZ', 'VÁSQUEZ',
  'SÁNCHEZ', 'FERNÁNDEZ', 'RAMÍREZ', 'CARRASCO', 'GÓMEZ', 'CORTÉS', 'HERRERA', 'NÚÑEZ', 'JARA',
  'VERGARA', 'RIVERA', 'FIGUEROA', 'RIQUELME', 'GARCÍA', 'MIRANDA', 'BRAVO', 'VERA', 'MOLINA', 'VEGA',
  'CAMPOS', 'SANDOVAL', 'OLIVARES', 'ORELLANA', 'ZÚÑIGA', 'GALLARDO', 'PEÑA', 'IBÁÑEZ', 'YÁÑEZ',
  'ÑANCUPIL', 'ÑANCULEF', 'ÑIRRIPIL', 'CATRILEO', 'HUENCHULLÁN', 'MILLAPÁN', 'SAAVEDRA', 'ACUÑA',
  'OLGUÍN', 'AGÜERO', "O'RYAN", 'DEL CANTO', 'DE LA FUENTE', 'SAN MARTÍN',
] as const;

export const MALE_NAMES = [
  'JOSÉ', 'JUAN', 'LUIS', 'CARLOS', 'JORGE', 'MANUEL', 'FRANCISCO', 'PEDRO', 'MIGUEL', 'RAÚL', 'HÉCTOR',
  'SEBASTIÁN', 'MATÍAS', 'NICOLÁS', 'BENJAMÍN', 'AGUSTÍN', 'TOMÁS', 'JOAQUÍN', 'CRISTÓBAL', 'IGNACIO',
  'FELIPE', 'RENÉ', 'ANDRÉS', 'MARTÍN', 'ÁLVARO', 'ÓSCAR', 'RAMÓN', 'JESÚS', 'PATRICIO', 'GONZALO',
] as const;

export const FEMALE_NAMES = [
  'MARÍA', 'ANA', 'CAROLINA', 'CONSTANZA', 'JAVIERA', 'CATALINA', 'FERNANDA', 'VALENTINA', 'SOFÍA',
  'ISIDORA', 'FLORENCIA', 'MARTINA', 'PAULINA', 'VERÓNICA', 'MÓNICA', 'BEATRIZ', 'INÉS', 'ROCÍO',
  'MAGDALENA', 'XIMENA', 'PATRICIA', 'ROSA', 'ELENA', 'GLORIA', 'SOLEDAD', 'BELÉN', 'NOEMÍ', 'ÁNGELA',
  'MARÍA JOSÉ', 'MARÍA JESÚS', 'ZOÉ',
] as const;

export interface PersonName {
  /** Paternal surname. */
  family: string;
  given: string;
  /** Maternal surname, which Chilean sites usually put in the PN middle-name component. */
  middle: string;
}

export function pickName(sex: string | null, rng: Prng): PersonName {
  const givenPool = sex === 'M' ? MALE_NAMES : sex === 'F' ? FEMALE_NAMES : rng.chance(0.5) ? MALE_NAMES : FEMALE_NAMES;
  let given: string = rng.pick(givenPool);
  if (rng.chance(0.35)) {
    const second = rng.pick(givenPool);
    if (second !== given) given = `${given} ${second}`;
  }
  return { family: rng.pick(SURNAMES), given, middle: rng.pick(SURNAMES) };
}

/** Spellings stripped of accents, as older modalities and RIS interfaces send them (Ñ → N too). */
export function stripAccents(text: string): string {
  return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
}

/**
 * The PN a site stores: mostly `FAMILY^GIVEN^MIDDLE`; some sites put both surnames in the family
 * component (no middle part), some drop the maternal surname, some strip accents.
 */
export function toPn(name: PersonName, rng: Prng, asciiOnly: boolean): string {
  const layout = rng.weighted([
    ['family^given^middle', 70],
    ['both-surnames^given', 20],
    ['family^given', 10],
  ] as const);
  const pn =
    layout === 'family^given^middle'
      ? `${name.family}^${name.given}^${name.middle}`
      : layout === 'both-surnames^given'
        ? `${name.family} ${name.middle}^${name.given}`
        : `${name.family}^${name.given}`;
  return asciiOnly ? stripAccents(pn) : pn;
}

/** Referring physicians as RIS systems write them: PN with a title, free text, or initials. */
export function physicianName(rng: Prng): string {
  const name = pickName(rng.chance(0.5) ? 'M' : 'F', rng);
  const given = name.given.split(' ')[0] ?? name.given;
  return rng.weighted([
    [`${name.family}^${given}^^DR.`, 40],
    [`${name.family}^${given}`, 30],
    [`DR. ${given} ${name.family}`, 15],
    [`${name.family} ${name.middle}^${given}^^DRA.`, 10],
    [`${given.charAt(0)}. ${name.family}`, 5],
  ] as const);
}
