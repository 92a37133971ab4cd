import { DatabaseError, IndexerError } from '../../../shared/errors.js';

/** A MySQL account as GRANT spells it: 'user'@'host'. */
export function quoteAccount(currentUser: string): string {
  const at = currentUser.lastIndexOf('@');
  const user = at < 0 ? currentUser : currentUser.slice(0, at);
  const host = at < 0 ? '%' : currentUser.slice(at + 1);
  const quote = (s: string): string => s.replace(/\\/g, '\\\\').replace(/'/g, "''");
  return `'${quote(user)}'@'${quote(host)}'`;
}

function quoteIdent(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

/**
 * The least privileges of the agent's account. The account that runs `indexer install` becomes
 * the triggers' DEFINER, and MySQL checks the definer's privileges each time a trigger fires, so
 * `run` keeps what the triggers need — TRIGGER and SELECT on study and patient, INSERT on
 * study_service — besides what sync, initial, status, reconcile and check use. `install` adds
 * CREATE/DROP/ALTER on the indexer's own tables (and on the legacy queue where the legacy
 * indexer ran).
 */
export function grantStatements(account: string, database: string, phase: 'install' | 'run'): string[] {
  const db = quoteIdent(database);
  const ours = ['study_service', 'indexer_state', 'indexer_dead_letter'];
  const pacs = [
    `GRANT SELECT, TRIGGER ON ${db}.\`study\` TO ${account};`,
    `GRANT SELECT, TRIGGER ON ${db}.\`patient\` TO ${account};`,
  ];
  if (phase === 'run') return [...pacs, ...ours.map((t) => `GRANT SELECT, INSERT, UPDATE, DELETE ON ${db}.\`${t}\` TO ${account};`)];
  return [
    ...pacs,
    ...ours.map((t) => `GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER ON ${db}.\`${t}\` TO ${account};`),
    // The legacy indexer's queue is renamed to this name while its studies are re-queued.
    `GRANT SELECT, INSERT, CREATE, DROP, ALTER ON ${db}.\`indexer_legacy_queue\` TO ${account};  -- only where the legacy indexer ran`,
  ];
}

const PRIVILEGE_ERRNOS = new Set([1044, 1142, 1143, 1227, 1370]);
const BINLOG_ERRNO = 1419;
/** ER_LOCK_WAIT_TIMEOUT: also what a metadata-lock wait past lock_wait_timeout raises. */
const LOCK_WAIT_ERRNOS = new Set([1205]);

export interface CaptureErrorContext {
  /** CURRENT_USER() of the session, e.g. `indexer@%`. */
  currentUser: string;
  database: string;
  action: 'install' | 'uninstall';
  /** How long the DDL waited for the PACS's transactions, e.g. "5 attempts of 1 s". */
  lockWait?: string;
}

/** Maps a failure while changing capture objects to an error whose hint says what the DBA runs. */
export function toCaptureError(err: unknown, ctx: CaptureErrorContext): IndexerError {
  if (err instanceof IndexerError) return err;
  const e = err as { errno?: number; code?: string; message?: string; statement?: string };
  const account = quoteAccount(ctx.currentUser);
  if (e.errno === BINLOG_ERRNO) {
    return new DatabaseError('DB_PRIVILEGES', `cannot create triggers in ${ctx.database}: binary logging is on and ${account} lacks SUPER (MySQL error 1419)`, {
      cause: err,
      hint:
        'a DBA must run: SET GLOBAL log_bin_trust_function_creators = 1;  (and add log_bin_trust_function_creators = 1 ' +
        'under [mysqld] in my.cnf so it survives a restart), then run `indexer install` again; ' +
        'or apply `indexer install --print` as a user with SUPER',
    });
  }
  if (e.errno !== undefined && PRIVILEGE_ERRNOS.has(e.errno)) {
    const grants = grantStatements(account, ctx.database, 'install');
    // The server's text names the privilege and table ("DROP command denied to user … for table …").
    const denied = e.message ? `: ${e.message}` : '';
    const at = e.statement ? ` at \`${e.statement}\`` : '';
    return new DatabaseError('DB_PRIVILEGES', `${account} lacks the privileges to ${ctx.action} the capture objects in ${ctx.database} (MySQL error ${e.errno}${at}${denied})`, {
      cause: err,
      hint: `a DBA must run:\n    ${grants.join('\n    ')}\n  then run \`indexer ${ctx.action}\` again (it resumes where it stopped), ` +
        (ctx.action === 'install' ? 'or have a DBA apply `indexer install --print`' : 'or have a DBA apply sql/pacs/uninstall.sql'),
    });
  }
  if (e.errno !== undefined && LOCK_WAIT_ERRNOS.has(e.errno)) {
    const waited = ctx.lockWait ? ` (${ctx.lockWait})` : '';
    return new DatabaseError('LOCK_BUSY', `the study or patient table of ${ctx.database} stayed busy${waited}; gave up rather than stall the PACS`, {
      cause: err,
      hint: `run \`indexer ${ctx.action}\` again, ideally when the PACS is quiet (it resumes where it stopped; \`indexer check\` names what is still missing)`,
    });
  }
  return new DatabaseError('DB_UNREACHABLE', `${ctx.action} of the capture objects in ${ctx.database} failed: ${e.code ?? 'error'}`, { cause: err });
}

/**
 * The privilege and table a denial names: "DELETE command denied to user 'x'@'h' for table
 * `db`.`t`" (MariaDB), "… for table 't'" (MySQL), "… for column 'c' in table 't'".
 */
export function deniedPrivilege(message: string | undefined): { privilege: string; table: string } | null {
  const m = /^(\w+) command denied to user .*? table [`']?(?:[^`'.]+[`']?\.[`']?)?([^`'.]+)[`']?\s*$/i.exec(message ?? '');
  return m ? { privilege: m[1]!.toUpperCase(), table: m[2]! } : null;
}

export function isPrivilegeError(err: unknown): boolean {
  const errno = (err as { errno?: number }).errno;
  return errno !== undefined && PRIVILEGE_ERRNOS.has(errno);
}

/**
 * A denial while the agent runs (sync, initial, status, reconcile): names the missing GRANT
 * rather than calling the database unreachable.
 */
export function runtimePrivilegeError(err: unknown, currentUser: string, database: string): DatabaseError {
  const e = err as { errno?: number; message?: string };
  const account = quoteAccount(currentUser);
  const denied = deniedPrivilege(e.message);
  const what = denied ? `${denied.privilege} on ${quoteIdent(database)}.${quoteIdent(denied.table)}` : 'a privilege it needs';
  const grant = denied ? `GRANT ${denied.privilege} ON ${quoteIdent(database)}.${quoteIdent(denied.table)} TO ${account};` : 'the GRANTs below;';
  return new DatabaseError('DB_PRIVILEGES', `${account} lacks ${what} in PACS database ${database} (MySQL error ${e.errno})`, {
    cause: err,
    hint: `a DBA must run: ${grant}  The agent's run-time privileges are:\n    ${grantStatements(account, database, 'run').join('\n    ')}`,
  });
}
