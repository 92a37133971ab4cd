import { expect } from 'vitest';
import { DimseError, type DimseErrorCode } from '../../../../../src/agent/sources/dimse/dimse-errors.js';

/** Awaits a call that must fail with a DimseError of `code`; returns it with how long it took. */
export async function failsWith(call: Promise<unknown>, code: DimseErrorCode): Promise<{ error: DimseError; ms: number }> {
  const started = Date.now();
  const outcome = await call.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  const ms = Date.now() - started;
  if (outcome.ok) throw new Error(`expected ${code}, the call succeeded`);
  const error = outcome.error;
  if (!(error instanceof DimseError)) throw new Error(`expected a DimseError ${code}, got ${String(error)}`, { cause: error });
  expect(error.dimseCode, error.message).toBe(code);
  expect(error.hint, 'every DimseError has an operator hint').toMatch(/\w{3,}/);
  return { error, ms };
}

/**
 * No patient value (nor a fragment of one: a PN component, an ID) appears in the error's
 * message, hint, or the message of anything it wraps.
 */
export function expectNoPatientData(error: Error, patientValues: readonly string[]): void {
  const texts: string[] = [];
  for (let e: unknown = error; e instanceof Error; e = e.cause) texts.push(e.message, (e as { hint?: string }).hint ?? '');
  const all = texts.join('\n').toLowerCase();
  const needles = patientValues.flatMap((v) => [v, ...v.split('^')]).filter((v) => v.length >= 3);
  for (const needle of needles) expect(all, `error text quotes the patient value ${needle}`).not.toContain(needle.toLowerCase());
}
