import type mysql from 'mysql2/promise';
import { expect } from 'vitest';
import { Dcm4cheeWriter } from '../../helpers/dcm4chee-writer.js';
import { startCentralReceiver, type CentralReceiver } from '../../helpers/central-receiver.js';
import type { TestDatabase } from '../../helpers/mysql.js';
import { createPacsdb } from '../../helpers/pacsdb.js';
import { CENTER, KEY, runCli } from './agent-harness.js';
import { TestAccount, readmeGrants, revokesBetween } from './mysql-account.js';

/** A README least-privilege site: a pacsdb, the agent's and the PACS's own accounts, a receiver. */
export interface LeastPrivilegeSite {
  db: TestDatabase;
  /** The agent's account; the site config logs in as it. */
  agent: TestAccount;
  /** The PACS's own account (SELECT, INSERT, UPDATE, DELETE on the database). */
  pacs: TestAccount;
  pacsConn: mysql.Connection;
  /** Writes like dcm4chee, as the PACS's account. */
  writer: Dcm4cheeWriter;
  receiver: CentralReceiver;
  dir: string;
  grants: ReturnType<typeof readmeGrants>;
  /** For afterAll: ends the PACS connection, stops the receiver, drops the database and accounts. */
  close(): Promise<void>;
}

export interface LeastPrivilegeSiteNames {
  /** createPacsdb's prefix. */
  db: string;
  /** TestAccount prefixes. */
  agent: string;
  pacs: string;
  /** startCentralReceiver's prefix. */
  receiver: string;
}

/**
 * Sets up the site; with `install`, the agent's account gets the README's install-time GRANTs,
 * `indexer install` must exit 0, and the account is cut down to the run-time GRANTs.
 * On a failure, whatever was set up is closed before the error is rethrown.
 */
export async function createLeastPrivilegeSite(names: LeastPrivilegeSiteNames, opts: { install?: boolean } = {}): Promise<LeastPrivilegeSite> {
  const site: Partial<LeastPrivilegeSite> = {};
  const close = async () => {
    await site.pacsConn?.end().catch(() => undefined);
    await site.receiver?.close();
    await site.db?.drop();
    await site.agent?.drop();
    await site.pacs?.drop();
  };
  try {
    const db = (site.db = await createPacsdb('fixture', names.db));
    const agent = (site.agent = await TestAccount.create(db.conn, names.agent));
    const pacs = (site.pacs = await TestAccount.create(db.conn, names.pacs));
    await pacs.apply(`GRANT SELECT, INSERT, UPDATE, DELETE ON \`${db.name}\`.* TO ${pacs.account}`);
    site.pacsConn = await pacs.connect(db);
    site.writer = new Dcm4cheeWriter(site.pacsConn);
    site.receiver = await startCentralReceiver(names.receiver, { [CENTER]: KEY });
    site.dir = agent.siteConfig(db, { url: site.receiver.url });
    site.grants = readmeGrants(db.name, agent.account);
    if (opts.install) {
      for (const g of site.grants.install) await agent.apply(g);
      const install = await runCli(['install'], site.dir);
      expect(install.code, install.stderr).toBe(0);
      for (const r of revokesBetween(site.grants.install, site.grants.run)) await agent.apply(r);
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { ...(site as Omit<LeastPrivilegeSite, 'close'>), close };
}
