import { ConfigError } from '../shared/errors.js';
import type { ReceiverCommandLine } from './cli.js';
import { runDicomClientCommand } from './dicom-client-commands.js';
import { generateSecret, hashSecret } from './http/auth.js';
import type { AccessStore } from './store/access-store.js';
import type { DicomClientStore } from './store/dicom-client-store.js';

export interface AdminContext {
  access: AccessStore;
  dicomClients: DicomClientStore;
  stdout: (text: string) => void;
}

const CENTER_CODE = /^[A-Za-z0-9_.-]{1,64}$/;
const TOKEN_NAME = /^[\x21-\x7e]{1,128}$/;
const MIN_SECRET = 16;

function checkCode(code: string | undefined): string {
  if (!code || !CENTER_CODE.test(code)) throw new ConfigError(`centre code ${JSON.stringify(code ?? '')} is invalid: expected 1-64 of A-Z a-z 0-9 _ . -`);
  return code;
}

/** A given secret must be long enough to resist guessing; otherwise one is generated. */
function secretOf(given: string | undefined, flag: string): string {
  if (given === undefined) return generateSecret();
  if (given.length < MIN_SECRET || /\s/.test(given)) {
    throw new ConfigError(`${flag} is invalid: expected at least ${MIN_SECRET} characters without blanks`);
  }
  return given;
}

/** A centre's DICOMweb root: http(s), no credentials, query or fragment; stored without a trailing slash. */
function dicomwebUrlOf(given: string | undefined): string | null | undefined {
  if (given === undefined || given === '') return given === '' ? null : undefined;
  // Not quoted: a refused URL may carry a password (the very reason it is refused).
  const problem = '--dicomweb-url is invalid: expected an http(s) URL without user, password, query or fragment, e.g. https://pacs.example.org/dicom-web';
  let u: URL;
  try {
    u = new URL(given);
  } catch {
    throw new ConfigError(problem);
  }
  if (!['http:', 'https:'].includes(u.protocol) || u.username || u.password || u.search || u.hash || u.href.length > 1024) throw new ConfigError(problem);
  return u.href.replace(/\/+$/, '');
}

/** An AE title: 1-16 characters of the default repertoire, no backslash; blanks around it are not part of it. */
function aetOf(given: string | undefined): string | null | undefined {
  if (given === undefined || given === '') return given === '' ? null : undefined;
  const aet = given.trim();
  if (!/^[\x20-\x5b\x5d-\x7e]{1,16}$/.test(aet)) {
    throw new ConfigError(`--retrieve-aet ${JSON.stringify(given.slice(0, 40))} is invalid: expected 1-16 printable ASCII characters without a backslash`);
  }
  return aet;
}

function nameOf(given: string | undefined): string | null | undefined {
  if (given === undefined || given === '') return given === '' ? null : undefined;
  if (given.length > 255 || /[\x00-\x1f\x7f]/.test(given)) throw new ConfigError('--name is invalid: expected at most 255 characters without control characters');
  return given;
}

/** ISO date or date-time → UTC 'YYYY-MM-DD HH:MM:SS.mmm' for the audit query. */
function sinceOf(since: string | undefined): string | null {
  if (since === undefined) return null;
  const t = Date.parse(since);
  if (!/^\d{4}-\d{2}-\d{2}/.test(since) || Number.isNaN(t)) {
    throw new ConfigError(`--since ${JSON.stringify(since)} is invalid: expected an ISO date such as 2025-01-31 or 2025-01-31T08:00:00Z`);
  }
  return new Date(t).toISOString().replace('T', ' ').replace('Z', '');
}

/** The administrative commands (all but migrate, serve and dicom). Secrets are printed as the last line. */
export async function runAdminCommand(cli: ReceiverCommandLine, ctx: AdminContext): Promise<number> {
  const { access, stdout } = ctx;
  switch (cli.command) {
    case 'centers add': {
      const code = checkCode(cli.target);
      const key = secretOf(cli.key, '--key');
      await access.addCenter(code, cli.name ?? null, hashSecret(key));
      stdout(`centre ${code} added; its write key:\n${key}\n`);
      return 0;
    }
    case 'centers set': {
      const code = checkCode(cli.target);
      await access.setCenterDetails(code, { name: nameOf(cli.name), dicomwebUrl: dicomwebUrlOf(cli.dicomwebUrl), retrieveAet: aetOf(cli.retrieveAet) });
      const entry = (await access.centerDirectory()).find((c) => c.code === code);
      stdout(`centre ${code} updated: ${JSON.stringify({ name: entry?.name ?? null, dicomweb_url: entry?.dicomwebUrl ?? null, retrieve_aet: entry?.retrieveAet ?? null })}\n`);
      return 0;
    }
    case 'centers rotate-key': {
      const code = checkCode(cli.target);
      const key = secretOf(cli.key, '--key');
      await access.rotateCenterKey(code, hashSecret(key));
      stdout(`centre ${code}: new write key (the old one no longer works):\n${key}\n`);
      return 0;
    }
    case 'centers disable':
    case 'centers enable': {
      const code = checkCode(cli.target);
      await access.setCenterEnabled(code, cli.command === 'centers enable');
      stdout(`centre ${code} ${cli.command === 'centers enable' ? 'enabled' : 'disabled'}\n`);
      return 0;
    }
    case 'centers list': {
      const states = new Map((await access.listCenterAccess()).map((c) => [c.code, c]));
      for (const c of await access.listCenters()) {
        const a = states.get(c.code);
        stdout(`${JSON.stringify({
          code: c.code, name: c.name, enabled: a?.enabled ?? false, studies: c.studies, last_seen: c.last_seen, last_source_seq: c.last_source_seq,
          dicomweb_url: c.dicomweb_url, retrieve_aet: c.retrieve_aet, created_at: a?.created_at ?? null, key_rotated_at: a?.key_rotated_at ?? null,
        })}\n`);
      }
      return 0;
    }
    case 'tokens list': {
      for (const t of await access.listTokens()) stdout(`${JSON.stringify(t)}\n`);
      return 0;
    }
    case 'tokens add': {
      const name = cli.target ?? '';
      if (!TOKEN_NAME.test(name)) throw new ConfigError(`token name ${JSON.stringify(name)} is invalid: expected 1-128 printable characters`);
      const token = secretOf(cli.token, '--token');
      await access.addToken(name, hashSecret(token));
      stdout(`read token ${name} created:\n${token}\n`);
      return 0;
    }
    case 'tokens revoke': {
      await access.revokeToken(cli.target ?? '');
      stdout(`read token ${cli.target} revoked\n`);
      return 0;
    }
    case 'audit': {
      for (const entry of await access.listAudit(sinceOf(cli.since))) stdout(`${JSON.stringify(entry)}\n`);
      return 0;
    }
    case 'dicom-clients add':
    case 'dicom-clients list':
    case 'dicom-clients remove':
      return runDicomClientCommand(cli, ctx.dicomClients, stdout);
    default:
      throw new ConfigError(`not an administrative command: ${cli.command}`);
  }
}
