import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { ConfigError } from '../../shared/errors.js';
import type { Pool } from './db.js';
import { storeError } from './store-errors.js';
import type { CenterDirectoryEntry } from './study-match.js';
import { loadCenters } from './study-match-sql.js';

/** What `centers set` changes; an absent field is left as it is, null clears it. */
export interface CenterDetails {
  name?: string | null;
  dicomwebUrl?: string | null;
  retrieveAet?: string | null;
}

export interface Principal {
  kind: 'center' | 'token';
  id: number;
  /** Centre code or token name. */
  name: string;
  active: boolean;
  hash: Buffer;
}

export interface CenterSummary {
  code: string;
  name: string | null;
  studies: number;
  last_seen: string | null;
  last_source_seq: number | null;
  /** The centre's own DICOMweb root (`centers set --dicomweb-url`), or null. */
  dicomweb_url: string | null;
  /** The AE title of the centre's PACS (`centers set --retrieve-aet`), or null. */
  retrieve_aet: string | null;
}

/** A centre's access state, for `centers list` (never its key or hash). */
export interface CenterAccess {
  code: string;
  enabled: boolean;
  created_at: string;
  key_rotated_at: string | null;
}

/** A read token as `tokens list` shows it: never the token or its hash. */
export interface TokenSummary {
  name: string;
  active: boolean;
  created_at: string;
  revoked_at: string | null;
}

const isoUtc = (v: unknown): string | null => (v === null || v === undefined ? null : `${String(v).replace(' ', 'T')}Z`);

export interface AuditEntry {
  at: string;
  token_name: string;
  route: string;
  parameters: string | null;
  result_count: number;
  status: number;
}

/** Centres, read tokens and the read audit: every SQL statement about who may do what. */
export class AccessStore {
  constructor(private readonly pool: Pool) {}

  /** Every statement goes through these two: driver errors leave as the store's (storeError). */
  private async rows(sql: string, args: unknown[] = []): Promise<RowDataPacket[]> {
    try {
      const [rows] = await this.pool.query<RowDataPacket[]>(sql, args);
      return rows;
    } catch (err) {
      throw storeError(err);
    }
  }

  private async exec(sql: string, args: unknown[]): Promise<ResultSetHeader> {
    try {
      const [res] = await this.pool.query<ResultSetHeader>(sql, args);
      return res;
    } catch (err) {
      throw storeError(err);
    }
  }

  /** The centre or token whose key hashes to `hash`, or null. */
  async findPrincipal(hash: Buffer): Promise<Principal | null> {
    const rows = await this.rows(
      `SELECT 'center' AS kind, id, code AS name, enabled AS active, key_hash AS hash FROM centers WHERE key_hash = ?
       UNION ALL
       SELECT 'token', id, name, revoked_at IS NULL, token_hash FROM read_tokens WHERE token_hash = ?`,
      [hash, hash],
    );
    const row = rows[0];
    if (!row) return null;
    return { kind: row.kind, id: Number(row.id), name: String(row.name), active: Number(row.active) === 1, hash: row.hash as Buffer };
  }

  async addCenter(code: string, name: string | null, keyHash: Buffer): Promise<void> {
    try {
      await this.exec(
        'INSERT INTO centers (code, name, key_hash, enabled, created_at, key_rotated_at) VALUES (?, ?, ?, 1, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))',
        [code, name, keyHash],
      );
    } catch (err) {
      if ((err as { code?: string }).code === 'ER_DUP_ENTRY') {
        throw new ConfigError(`centre ${code} already exists, or that key is already in use`, {
          hint: 'use `centers rotate-key CODE` to give it a new key',
        });
      }
      throw err;
    }
  }

  async rotateCenterKey(code: string, keyHash: Buffer): Promise<void> {
    const res = await this.exec(
      'UPDATE centers SET key_hash = ?, key_rotated_at = UTC_TIMESTAMP(3) WHERE code = ?',
      [keyHash, code],
    );
    if (res.affectedRows === 0) throw new ConfigError(`no centre ${code}`);
  }

  async setCenterEnabled(code: string, enabled: boolean): Promise<void> {
    const res = await this.exec('UPDATE centers SET enabled = ? WHERE code = ?', [enabled ? 1 : 0, code]);
    if (res.affectedRows === 0) throw new ConfigError(`no centre ${code}`);
  }

  /** A revoked token's name may be reused: the row (and its audit trail by name) stays. */
  async addToken(name: string, tokenHash: Buffer): Promise<void> {
    const res = await this.exec(
      `INSERT INTO read_tokens (name, token_hash, created_at) VALUES (?, ?, UTC_TIMESTAMP(3))
       ON DUPLICATE KEY UPDATE token_hash = IF(revoked_at IS NULL, token_hash, VALUES(token_hash)),
         created_at = IF(revoked_at IS NULL, created_at, VALUES(created_at)),
         revoked_at = NULL`,
      [name, tokenHash],
    );
    // affectedRows: 1 inserted, 2 updated (a revoked name reused), 0 an active token of that name exists.
    if (res.affectedRows === 0) throw new ConfigError(`a token named ${name} already exists`, { hint: 'revoke it first' });
    const rows = await this.rows('SELECT token_hash FROM read_tokens WHERE name = ?', [name]);
    if (!rows[0] || !(rows[0].token_hash as Buffer).equals(tokenHash)) {
      throw new ConfigError(`a token named ${name} already exists`, { hint: 'revoke it first' });
    }
  }

  async revokeToken(name: string): Promise<void> {
    const res = await this.exec(
      'UPDATE read_tokens SET revoked_at = UTC_TIMESTAMP(3) WHERE name = ? AND revoked_at IS NULL',
      [name],
    );
    if (res.affectedRows === 0) throw new ConfigError(`no active token named ${name}`);
  }

  /**
   * Live counts, last contact and highest source_seq come from center_counts, which ingest
   * maintains in its own transaction: a few rows per centre, never a count over the studies.
   */
  async listCenters(): Promise<CenterSummary[]> {
    const rows = await this.rows(
      `SELECT c.code, c.name, c.dicomweb_url, c.retrieve_aet, MAX(k.last_seen) AS last_seen, MAX(k.last_source_seq) AS last_source_seq,
         CAST(COALESCE(SUM(k.live), 0) AS SIGNED) AS studies
       FROM centers c LEFT JOIN center_counts k ON k.center_id = c.id
       GROUP BY c.id, c.code, c.name, c.dicomweb_url, c.retrieve_aet ORDER BY c.code`,
    );
    return rows.map((r) => ({
      code: String(r.code),
      name: r.name === null ? null : String(r.name),
      studies: Number(r.studies),
      last_seen: r.last_seen === null ? null : String(r.last_seen).replace(' ', 'T') + 'Z',
      last_source_seq: r.last_source_seq === null ? null : Number(r.last_source_seq),
      dicomweb_url: r.dicomweb_url === null ? null : String(r.dicomweb_url),
      retrieve_aet: r.retrieve_aet === null ? null : String(r.retrieve_aet),
    }));
  }

  /** Every centre's name and where its images can be retrieved from (a few rows). */
  async centerDirectory(): Promise<CenterDirectoryEntry[]> {
    // The same directory the searches name their rows' centres from (one reader of it), by code.
    try {
      return [...(await loadCenters(this.pool)).values()].sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
    } catch (err) {
      throw storeError(err);
    }
  }

  async setCenterDetails(code: string, details: CenterDetails): Promise<void> {
    const columns: [string, string | null | undefined][] = [['name', details.name], ['dicomweb_url', details.dicomwebUrl], ['retrieve_aet', details.retrieveAet]];
    const set = columns.filter(([, v]) => v !== undefined);
    if (set.length === 0) throw new ConfigError('centers set: nothing to change', { hint: 'give --name, --dicomweb-url or --retrieve-aet' });
    const res = await this.exec(`UPDATE centers SET ${set.map(([c]) => `${c} = ?`).join(', ')} WHERE code = ?`, [...set.map(([, v]) => v), code]);
    if (res.affectedRows === 0) throw new ConfigError(`no centre ${code}`);
  }

  async listCenterAccess(): Promise<CenterAccess[]> {
    const rows = await this.rows('SELECT code, enabled, created_at, key_rotated_at FROM centers ORDER BY code');
    return rows.map((r) => ({
      code: String(r.code), enabled: Number(r.enabled) === 1, created_at: isoUtc(r.created_at)!, key_rotated_at: isoUtc(r.key_rotated_at),
    }));
  }

  async listTokens(): Promise<TokenSummary[]> {
    const rows = await this.rows('SELECT name, created_at, revoked_at FROM read_tokens ORDER BY name');
    return rows.map((r) => ({
      name: String(r.name), active: r.revoked_at === null, created_at: isoUtc(r.created_at)!, revoked_at: isoUtc(r.revoked_at),
    }));
  }

  async writeAudit(entry: Omit<AuditEntry, 'at'>): Promise<void> {
    await this.exec(
      'INSERT INTO read_audit (at, token_name, route, parameters, result_count, status) VALUES (UTC_TIMESTAMP(3), ?, ?, ?, ?, ?)',
      [entry.token_name, entry.route, entry.parameters, entry.result_count, entry.status],
    );
  }

  /** Audit entries at or after `since` (UTC 'YYYY-MM-DD HH:MM:SS'), oldest first. */
  async listAudit(since: string | null, limit = 100_000): Promise<AuditEntry[]> {
    const rows = await this.rows(
      `SELECT at, token_name, route, parameters, result_count, status FROM read_audit
       WHERE at >= COALESCE(?, '1000-01-01') ORDER BY id LIMIT ?`,
      [since, limit],
    );
    return rows.map((r) => ({
      at: String(r.at).replace(' ', 'T') + 'Z',
      token_name: String(r.token_name),
      route: String(r.route),
      parameters: r.parameters === null ? null : String(r.parameters),
      result_count: Number(r.result_count),
      status: Number(r.status),
    }));
  }
}
