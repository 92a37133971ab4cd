import { describe, expect, it } from 'vitest';
import { parseGrants } from '../../../../src/agent/sources/dcm4chee/account-grants.js';
import { deniedPrivilege } from '../../../../src/agent/sources/dcm4chee/capture-errors.js';

/** SHOW GRANTS as MySQL 5.5–8 and MariaDB print it, read the way check and the preflight need. */
describe('parseGrants', () => {
  it('reads MariaDB (backticks) and MySQL 5.5 (single quotes) table grants', () => {
    const maria = parseGrants([
      "GRANT USAGE ON *.* TO `ix`@`%` IDENTIFIED BY PASSWORD '*D8'",
      'GRANT SELECT, TRIGGER ON `pacsdb`.`study` TO `ix`@`%`',
    ], 'ix@%');
    expect(maria.has('TRIGGER', 'pacsdb', 'study')).toBe(true);
    expect(maria.has('TRIGGER', 'pacsdb', 'patient')).toBe(false);
    expect(maria.has('INSERT', 'pacsdb', 'study')).toBe(false);
    const mysql55 = parseGrants(["GRANT SELECT, INSERT ON `pacsdb`.`study_service` TO 'ix'@'10.0.%'"], 'ix@10.0.%');
    expect(mysql55.has('INSERT', 'pacsdb', 'study_service')).toBe(true);
  });

  it('global and database grants cover tables; a database name is a LIKE pattern, escapes literal', () => {
    const g = parseGrants([
      'GRANT ALL PRIVILEGES ON `pacs\\_db`.* TO `ix`@`%`',
      'GRANT SELECT ON `site%`.* TO `ix`@`%`',
    ], 'ix@%');
    expect(g.has('TRIGGER', 'pacs_db', 'study')).toBe(true);
    expect(g.has('TRIGGER', 'pacsXdb', 'study')).toBe(false);
    expect(g.has('SELECT', 'site7', 'study')).toBe(true);
    expect(parseGrants(['GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION'], 'root@localhost').has('DROP', 'any', 't')).toBe(true);
  });

  it('column-level privileges do not count as the whole table', () => {
    const g = parseGrants(['GRANT SELECT (`pk`, `patient_fk`), TRIGGER ON `pacsdb`.`study` TO `ix`@`%`'], 'ix@%');
    expect(g.has('SELECT', 'pacsdb', 'study')).toBe(false);
    expect(g.has('TRIGGER', 'pacsdb', 'study')).toBe(true);
  });

  it('keeps a role’s privileges apart: usable by the session, not by a trigger’s definer', () => {
    const g = parseGrants([
      'GRANT `rz` TO `iz`@`%`',
      'GRANT SELECT ON `pacsdb`.`study` TO `iz`@`%`',
      'GRANT SELECT, TRIGGER ON `pacsdb`.`study` TO `rz`',
    ], 'iz@%');
    expect(g.roles).toHaveLength(1);
    expect(g.has('TRIGGER', 'pacsdb', 'study')).toBe(false);
    expect(g.hasInSession('TRIGGER', 'pacsdb', 'study')).toBe(true);
  });
});

describe('deniedPrivilege', () => {
  it.each([
    ["DELETE command denied to user 'ix'@'127.0.0.1' for table `pacsdb`.`study_service`", 'DELETE', 'study_service'],
    ["SELECT command denied to user 'ix'@'localhost' for table 'study'", 'SELECT', 'study'],
    ["SELECT command denied to user 'ix'@'localhost' for column 'pk' in table 'patient'", 'SELECT', 'patient'],
  ])('%s', (message, privilege, table) => {
    expect(deniedPrivilege(message)).toEqual({ privilege, table });
  });
});
