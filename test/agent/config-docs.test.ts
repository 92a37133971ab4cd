import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/agent/config-schema.js';
import { leavesOf } from '../../src/shared/config-checks.js';
import { docsTable, documentedDefault } from '../helpers/config-docs.js';

describe("docs/agent.md's configuration table", () => {
  const rows = docsTable('docs/agent.md', 'Configuration', 'key').map(([key = '', env = '', def = '']) => ({
    key: key.replace(/`/g, ''), env: env === '—' ? undefined : env.replace(/`/g, ''), default: documentedDefault(def),
  }));

  it('lists every key of the schema, in its order, with its variable and default', () => {
    const schema = leavesOf(configSchema).map(([key, leaf]) => ({ key, env: leaf.env, default: leaf.default }));
    expect(rows).toEqual(schema);
  });
});
