import { mkdirSync } from 'node:fs';

/**
 * Command lines for a throwaway mariadbd kept wholly inside `dir`. Its temporary folder is its own:
 * at every start mariadbd deletes each `#sql*` file in its tmpdir, so a private server left on the
 * shared /tmp wiped the machine's main server's in-flight temporary tables (a query there then failed
 * with "Error on delete of '/tmp/#sql-temptable-…'").
 */
export function privateMariadbArgs(dir: string, port: number): { install: string[]; server: string[] } {
  mkdirSync(`${dir}/tmp`, { recursive: true });
  const own = ['--no-defaults', `--datadir=${dir}/data`, `--tmpdir=${dir}/tmp`];
  const user = process.getuid?.() === 0 ? ['--user=root'] : [];
  return {
    install: [...own, '--auth-root-authentication-method=normal', '--skip-test-db', ...user],
    server: [
      ...own, `--socket=${dir}/mysqld.sock`, `--pid-file=${dir}/mysqld.pid`,
      '--bind-address=127.0.0.1', `--port=${port}`, '--skip-log-bin', ...user,
    ],
  };
}
