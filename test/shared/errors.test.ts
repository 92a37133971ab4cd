import { describe, expect, it } from 'vitest';
import { findMigrationsDir } from '../../src/receiver/store/migrations.js';
import { DatabaseError, ERROR_TABLE, exitCodeFor, httpStatusFor, IndexerError } from '../../src/shared/errors.js';
import { StoreUnavailableError, storeError } from '../../src/receiver/store/store-errors.js';

describe('error codes', () => {
  it('one table gives every code an exit code and an HTTP status', () => {
    for (const [code, outcome] of Object.entries(ERROR_TABLE)) {
      expect(Number.isInteger(outcome.exit) && outcome.exit > 1, code).toBe(true);
      expect(outcome.http >= 400 && outcome.http < 600, code).toBe(true);
    }
    expect(exitCodeFor(new Error('plain'))).toBe(1);
    expect(httpStatusFor(new Error('plain'))).toBe(500);
  });

  it('a missing migrations folder is MIGRATIONS_MISSING, not an unreachable database', () => {
    let err: unknown;
    try {
      findMigrationsDir('/');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DatabaseError);
    expect((err as IndexerError).code).toBe('MIGRATIONS_MISSING');
    expect(exitCodeFor(err)).toBe(3);
  });

  it('the store turns a driver outage into STORE_UNAVAILABLE (503), and leaves other errors alone', () => {
    const outage = storeError(Object.assign(new Error('x'), { code: 'ER_LOCK_DEADLOCK', sqlMessage: 'secret' }));
    expect(outage).toBeInstanceOf(StoreUnavailableError);
    expect(httpStatusFor(outage)).toBe(503);
    expect((outage as Error).message).not.toContain('secret');
    const duplicate = Object.assign(new Error('dup'), { code: 'ER_DUP_ENTRY' });
    expect(storeError(duplicate)).toBe(duplicate);
  });
});
