import type { Prng } from './prng.js';

/**
 * Patient identities made of unusual, greppable values, and every form in which each value could
 * leak into a log: names as given, as stored (upper case) and accent-folded; RUTs dotted, dashed,
 * plain and as a bare body; birth dates as stored (YYYYMMDD) and as ISO dates.
 */
export interface PatientIdentity {
  patId: string;
  name: string;
  birthdate: string;
  sex: string;
  issuer: string | null;
}

const SYLLABLES = ['QUA', 'ZOR', 'VIX', 'ÑEL', 'XAN', 'BRU', 'KEL', 'ZUM', 'PYR', 'WOG', 'JAX', 'ÑUK', 'TRY', 'FEZ', 'GLO', 'HUV'];

/** The módulo 11 check digit of a RUT body, written independently of src/shared/patient-key.ts. */
export function rutCheckDigit(body: number): string {
  let sum = 0;
  let factor = 2;
  for (const d of String(body).split('').reverse()) {
    sum += Number(d) * factor;
    factor = factor === 7 ? 2 : factor + 1;
  }
  const r = 11 - (sum % 11);
  return r === 11 ? '0' : r === 10 ? 'K' : String(r);
}

export function rutForms(body: number): { dotted: string; dashed: string; plain: string } {
  const dv = rutCheckDigit(body);
  const b = String(body);
  const dotted = b.replace(/\B(?=(\d{3})+(?!\d))/g, '.');
  return { dotted: `${dotted}-${dv}`, dashed: `${b}-${dv}`, plain: `${b}${dv}` };
}

function fold(text: string): string {
  return text.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class PatientDataRegistry {
  private serial = 0;
  private readonly patterns = new Map<string, RegExp>();

  constructor(private readonly rng: Prng) {}

  /** A fresh identity; every value it carries is registered for the log audit. */
  identity(): PatientIdentity {
    this.serial += 1;
    const name = `${this.word(4)}^${this.word(3)}`;
    const body = 40_000_000 + this.rng.int(0, 9_999_999);
    const forms = rutForms(body);
    const patId = this.rng.pick([forms.dotted, forms.dashed, forms.plain, forms.plain.toLowerCase()]);
    const birthdate = `19${String(this.rng.int(1, 19)).padStart(2, '0')}${String(this.rng.int(1, 12)).padStart(2, '0')}${String(this.rng.int(1, 28)).padStart(2, '0')}`;
    this.registerName(name);
    this.registerRut(body);
    this.registerBirthdate(birthdate);
    return { patId, name, birthdate, sex: this.rng.pick(['F', 'M', 'O']), issuer: this.rng.chance(0.3) ? 'ISSUER_FAULTS' : null };
  }

  /** A corrected name for a rename; registered too. */
  newName(): string {
    const name = `${this.word(4)}^${this.word(3)}`;
    this.registerName(name);
    return name;
  }

  /** How many distinct values are watched. */
  get size(): number {
    return this.patterns.size;
  }

  /** Lines that contain any registered value, with the form found (empty: no leak). */
  findLeaks(lines: readonly string[]): { line: string; form: string }[] {
    const leaks: { line: string; form: string }[] = [];
    for (const line of lines) {
      const folded = fold(line);
      for (const [form, re] of this.patterns) {
        if (re.test(line) || re.test(folded)) {
          leaks.push({ line: line.slice(0, 300), form });
          break;
        }
      }
    }
    return leaks;
  }

  private word(syllables: number): string {
    const parts = [this.rng.pick(SYLLABLES)];
    for (let i = 1; i < syllables; i++) parts.push(this.rng.pick(SYLLABLES));
    // The serial keeps names unique; letters only, so it is spelled in base 26.
    let n = this.serial;
    let tag = '';
    do {
      tag += String.fromCharCode(65 + (n % 26));
      n = Math.floor(n / 26);
    } while (n > 0);
    return `${parts.join('')}${tag}`;
  }

  private registerName(name: string): void {
    for (const part of [name, ...name.split('^')]) {
      for (const form of new Set([part, part.toUpperCase(), fold(part.toUpperCase())])) {
        this.patterns.set(form, new RegExp(escapeRegExp(form), 'i'));
      }
    }
  }

  private registerRut(body: number): void {
    const f = rutForms(body);
    for (const form of [f.dotted, f.dashed, f.plain]) this.patterns.set(form, new RegExp(`(?<![0-9A-Za-z])${escapeRegExp(form)}(?![0-9A-Za-z])`, 'i'));
    this.patterns.set(String(body), new RegExp(`(?<!\\d)${body}(?!\\d)`));
  }

  private registerBirthdate(stored: string): void {
    const iso = `${stored.slice(0, 4)}-${stored.slice(4, 6)}-${stored.slice(6, 8)}`;
    this.patterns.set(stored, new RegExp(`(?<!\\d)${stored}(?!\\d)`));
    this.patterns.set(iso, new RegExp(`(?<!\\d)${iso}(?!\\d)`));
  }
}
