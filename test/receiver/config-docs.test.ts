import { describe, expect, it } from 'vitest';
import { receiverSchema } from '../../src/receiver/config-schema.js';
import { leavesOf } from '../../src/shared/config-checks.js';
import { docsTable, documentedDefault } from '../helpers/config-docs.js';

describe("docs/receiver.md's configuration table", () => {
  // One row may name several variables (`RECEIVER_TLS_CERT`, `RECEIVER_TLS_KEY`): one entry each.
  const rows = docsTable('docs/receiver.md', 'Run it', 'variable').flatMap(([names = '', def = '']) =>
    [...names.matchAll(/`(RECEIVER_\w+)`/g)].map((m) => [m[1]!, documentedDefault(def)] as const));

  it('lists every variable of the schema once, with its default', () => {
    const schema = leavesOf(receiverSchema).map(([, leaf]) => [leaf.env!, leaf.default === '' && leaf.env !== 'RECEIVER_DATABASE_URL' ? null : leaf.default] as const);
    expect(Object.fromEntries(rows)).toEqual(Object.fromEntries(schema));
    expect(rows).toHaveLength(schema.length);
  });
});
