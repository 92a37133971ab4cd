import { existsSync } from 'node:fs';
import type { TestProject } from 'vitest/node';

/**
 * Finds the MySQL-compatible server the integration tests use, once per run:
 * 1. INDEXER_TEST_MYSQL_URL (CI points it at the local MariaDB);
 * 2. else a testcontainers MySQL when a Docker engine is reachable;
 * 3. else fail, saying how to provide one. Never skip silently.
 */
let stop: (() => Promise<void>) | undefined;

function dockerEngineLikelyReachable(): boolean {
  return Boolean(process.env.DOCKER_HOST) || existsSync('/var/run/docker.sock');
}

export async function setup(project: TestProject): Promise<void> {
  let url = process.env.INDEXER_TEST_MYSQL_URL;
  if (!url && dockerEngineLikelyReachable()) {
    const { MySqlContainer } = await import('@testcontainers/mysql');
    const container = await new MySqlContainer('mysql:8.0').withRootPassword('test').start();
    url = `mysql://root:test@${container.getHost()}:${container.getPort()}/`;
    stop = async () => {
      await container.stop();
    };
  }
  if (!url) {
    throw new Error(
      'The integration tests need a MySQL-compatible server. Set INDEXER_TEST_MYSQL_URL, e.g.\n' +
        '  INDEXER_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/ npm test\n' +
        '(a user that may CREATE and DROP databases), or run a Docker engine so testcontainers can start MySQL.\n' +
        'On Debian: apt-get install -y mariadb-server, or simply run `bash .ci/run`.',
    );
  }
  project.provide('mysqlUrl', url);
}

export async function teardown(): Promise<void> {
  await stop?.();
}

declare module 'vitest' {
  export interface ProvidedContext {
    mysqlUrl: string;
  }
}
