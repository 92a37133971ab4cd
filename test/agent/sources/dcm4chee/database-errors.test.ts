import { describe, expect, it } from 'vitest';
import { toDatabaseError } from '../../../../src/agent/sources/dcm4chee/pacs-db.js';

const db = { host: '127.0.0.1', port: 3306, user: 'ix', password: 'secret', name: 'pacsdb' } as Parameters<typeof toDatabaseError>[1];
const driverError = (errno: number, code: string, message: string) => Object.assign(new Error(message), { errno, code, sqlState: '42000' });

/** Driver errors mid-pass say what to do: a privilege names its GRANT, a missing capture table `indexer install`. */
describe('toDatabaseError', () => {
  it('a denial is DB_PRIVILEGES naming the GRANT for the account, never "unreachable" or the password', () => {
    const err = toDatabaseError(driverError(1142, 'ER_TABLEACCESS_DENIED_ERROR', "SELECT command denied to user 'ix'@'10.1.2.3' for table `pacsdb`.`study`"), db, 'ix@10.1.%');
    expect(err.code).toBe('DB_PRIVILEGES');
    expect(err.message).toContain("'ix'@'10.1.%' lacks SELECT on `pacsdb`.`study`");
    expect(err.hint).toContain("GRANT SELECT ON `pacsdb`.`study` TO 'ix'@'10.1.%';");
    expect(`${err.message} ${err.hint}`).not.toContain('secret');
  });

  it('a capture table gone mid-pass is CAPTURE_MISSING saying to run `indexer install`', () => {
    const err = toDatabaseError(driverError(1146, 'ER_NO_SUCH_TABLE', "Table 'pacsdb.study_service' doesn't exist"), db);
    expect(err.code).toBe('CAPTURE_MISSING');
    expect(err.message).toContain('study_service');
    expect(err.hint).toContain('run `indexer install`');
  });
});
