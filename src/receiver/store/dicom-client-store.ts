import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { ConfigError } from '../../shared/errors.js';
import type { Pool } from './db.js';
import { storeError } from './store-errors.js';

/** A workstation allowed to query over DIMSE, as `dicom-clients list` shows it (never the token). */
export interface DicomClient {
  aet: string;
  /** The read token it acts as (its name: who the audit says asked). */
  token_name: string;
  /** False when that token is revoked: the AE title is then refused like an unknown one. */
  token_active: boolean;
  /** The only peer address it is accepted from; null: any. */
  host: string | null;
  created_at: string;
}

/** One C-FIND's row in read_audit, written before the first answer and completed after the last. */
export interface FindAuditStart {
  token_name: string;
  route: string;
  parameters: string;
}

/** The row of a query whose end was never recorded (the receiver stopped mid-answer) keeps this status. */
export const AUDIT_IN_PROGRESS = 102;

const isoUtc = (v: unknown): string => `${String(v).replace(' ', 'T')}Z`;

// A token row that is gone (never: tokens are revoked, not deleted) reads as a revoked one.
const SELECT_CLIENTS = `SELECT d.aet, t.name AS token_name, t.revoked_at, d.host, d.created_at
  FROM dicom_clients d LEFT JOIN read_tokens t ON t.id = d.token_id`;

function clientOf(r: RowDataPacket): DicomClient {
  return {
    aet: String(r.aet), token_name: r.token_name === null ? '' : String(r.token_name), token_active: r.token_name !== null && r.revoked_at === null,
    host: r.host === null ? null : String(r.host), created_at: isoUtc(r.created_at),
  };
}

/** The DICOM AE-title registry (dicom_clients) and the read audit of C-FIND queries. */
export class DicomClientStore {
  constructor(private readonly pool: Pool) {}

  private async query<T extends RowDataPacket[] | ResultSetHeader>(sql: string, args: unknown[]): Promise<T> {
    try {
      const [rows] = await this.pool.query<T>(sql, args);
      return rows;
    } catch (err) {
      throw storeError(err);
    }
  }

  /** Lists `aet` as acting for the active read token `tokenName`; one row per AE title. */
  async add(aet: string, tokenName: string, host: string | null): Promise<void> {
    const tokens = await this.query<RowDataPacket[]>('SELECT id FROM read_tokens WHERE name = ? AND revoked_at IS NULL', [tokenName]);
    if (!tokens[0]) throw new ConfigError(`no active read token named ${tokenName}`, { hint: 'create it first: indexer-receiver tokens add NAME' });
    try {
      await this.query<ResultSetHeader>(
        'INSERT INTO dicom_clients (aet, token_id, host, created_at) VALUES (?, ?, ?, UTC_TIMESTAMP(3))',
        [aet, Number(tokens[0].id), host],
      );
    } catch (err) {
      if ((err as { code?: string }).code === 'ER_DUP_ENTRY') {
        throw new ConfigError(`AE title ${aet} is already listed`, { hint: 'remove it first: indexer-receiver dicom-clients remove AET' });
      }
      throw err;
    }
  }

  async remove(aet: string): Promise<void> {
    const res = await this.query<ResultSetHeader>('DELETE FROM dicom_clients WHERE aet = ?', [aet]);
    if (res.affectedRows === 0) throw new ConfigError(`no DICOM client with AE title ${aet}`);
  }

  async list(): Promise<DicomClient[]> {
    return (await this.query<RowDataPacket[]>(`${SELECT_CLIENTS} ORDER BY d.aet`, [])).map(clientOf);
  }

  /** The listed client of this calling AE title, with its token's state; null when unlisted. */
  async find(aet: string): Promise<DicomClient | null> {
    const rows = await this.query<RowDataPacket[]>(`${SELECT_CLIENTS} WHERE d.aet = ?`, [aet]);
    return rows[0] ? clientOf(rows[0]) : null;
  }

  /** The query's audit row, before anything is answered: its id, to complete it with finishFind. */
  async startFind(entry: FindAuditStart): Promise<number> {
    const res = await this.query<ResultSetHeader>(
      'INSERT INTO read_audit (at, token_name, route, parameters, result_count, status) VALUES (UTC_TIMESTAMP(3), ?, ?, ?, 0, ?)',
      [entry.token_name, entry.route, entry.parameters, AUDIT_IN_PROGRESS],
    );
    return res.insertId;
  }

  async finishFind(id: number, parameters: string, resultCount: number, status: number): Promise<void> {
    await this.query<ResultSetHeader>('UPDATE read_audit SET parameters = ?, result_count = ?, status = ? WHERE id = ?', [parameters, resultCount, status, id]);
  }
}
