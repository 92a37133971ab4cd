import { DatabaseError, IndexerError } from '../../shared/errors.js';

/** A MySQL account as GRANT spells it: 'user'@'host'. */
export function quoteAccount(currentUser: string): string {
  const at = currentUser.lastIndexOf('@');
  const user = at < 0 ? currentUser : currentUser.slice(0, at);
  const host = at < 0 ? '%' : currentUser.slice(at + 1);
  return `'${user.replace(/'/g, "''")}'@'${host.replace(/'/g, "''")}'`;
}

function quoteIdent(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

/**
 * The least privileges of the agent's account. `install` adds what creating the capture objects
 * needs (CREATE/DROP/ALTER on our own tables, TRIGGER on study and patient); `run` is what sync,
 * initial, status and check need, and what the triggers' definer must keep while they exist.
 */
export function grantStatements(account: string, database: string, phase: 'install' | 'run'): string[] {
  const db = quoteIdent(database);
  const ours = ['study_service', 'indexer_state', 'indexer_dead_letter'];
  if (phase === 'run') {
    return [
      `GRANT SELECT ON ${db}.\`study\` TO ${account};`,
      `GRANT SELECT ON ${db}.\`patient\` TO ${account};`,
      ...ours.map((t) => `GRANT SELECT, INSERT, UPDATE, DELETE ON ${db}.\`${t}\` TO ${account};`),
    ];
  }
  return [
    `GRANT SELECT, TRIGGER ON ${db}.\`study\` TO ${account};`,
    `GRANT SELECT, TRIGGER ON ${db}.\`patient\` TO ${account};`,
    ...ours.map((t) => `GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER ON ${db}.\`${t}\` TO ${account};`),
    // The legacy indexer's queue is renamed to this name while its studies are re-queued.
    `GRANT SELECT, INSERT, CREATE, DROP, ALTER ON ${db}.\`indexer_legacy_queue\` TO ${account};`,
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
}

/** Maps a failure while changing capture objects to an error whose hint says what the DBA runs. */
export function toCaptureError(err: unknown, ctx: CaptureErrorContext): IndexerError {
  if (err instanceof IndexerError) return err;
  const e = err as { errno?: number; code?: string };
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
    return new DatabaseError('DB_PRIVILEGES', `${account} lacks the privileges to ${ctx.action} the capture objects in ${ctx.database} (MySQL error ${e.errno})`, {
      cause: err,
      hint: `a DBA must run:\n    ${grants.join('\n    ')}\n  or apply \`indexer ${ctx.action === 'install' ? 'install --print' : 'uninstall'}\` SQL by hand`,
    });
  }
  if (e.errno !== undefined && LOCK_WAIT_ERRNOS.has(e.errno)) {
    return new DatabaseError('LOCK_BUSY', `the study or patient table of ${ctx.database} stayed busy; gave up rather than stall the PACS`, {
      cause: err,
      hint: 'run the command again, ideally when the PACS is quiet',
    });
  }
  return new DatabaseError('DB_UNREACHABLE', `${ctx.action} of the capture objects in ${ctx.database} failed: ${e.code ?? 'error'}`, { cause: err });
}
