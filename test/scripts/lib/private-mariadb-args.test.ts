import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PrivateMariadb, privateMariadbAvailable } from '../../faults/support/private-mariadb.js';

/**
 * mariadbd deletes every `#sql*` file in its tmpdir when it starts: a private server on the shared
 * /tmp once wiped the main test server's temporary table mid-query in CI.
 */
describe('a private mariadbd keeps to its own folder', { timeout: 120_000 }, () => {
  // Where another server's temporary table would be: the machine's tmpdir itself.
  const bystander = join(tmpdir(), `#sql-temptable-bystander-${process.pid}.MAI`);
  afterAll(() => {
    rmSync(bystander, { force: true });
  });

  it("leaves the shared tmpdir's #sql files alone at install and at start", async () => {
    expect(privateMariadbAvailable(), 'mariadbd and mariadb-install-db are needed (apt-get install mariadb-server)').toBe(true);
    writeFileSync(bystander, 'another server owns this');
    const db = await PrivateMariadb.create();
    try {
      await db.restart('SIGKILL');
      expect(existsSync(bystander)).toBe(true);
    } finally {
      await db.destroy();
    }
  });
});
