import { pino } from 'pino';
import { Agent } from 'undici';
import { DatabaseError } from '../../../shared/errors.js';
import type { Logger } from '../../../shared/logger.js';
import { requestWithRetry, type HttpSettings } from '../../http/http-transport.js';
import type { FailureMapping } from '../../http/request-failures.js';

/**
 * The few Orthanc REST calls the agent needs, with HTTP basic auth, through the agent's one request
 * path (requestWithRetry). Orthanc is the PACS here, so its failures use the PACS ("database")
 * error family and exit codes; a request is tried once (the pass runs again on its schedule).
 * Messages carry paths with Orthanc IDs (hashes), never patient data nor the password.
 * Every request has an overall deadline (timeoutMs, headers and body) and a size cap: 16 MiB
 * (a study with its series expanded is a few KB), and `maxListBytes` for the study listing,
 * which grows with the archive (~50 bytes per study).
 */
export const ORTHANC_ANSWER_CAP = 16 * 1024 * 1024;
export const DEFAULT_ORTHANC_LIST_CAP = 256 * 1024 * 1024;

export interface OrthancSettings {
  /** Base URL; `http://login:password@host:8042` is accepted and turned into basic auth. */
  url: string;
  username?: string;
  password?: string;
  timeoutMs?: number;
  /** Cap of the GET /studies answer, in bytes (orthanc.max_list_bytes). */
  maxListBytes?: number;
  /** Where failed attempts are logged at warn (default: nowhere; the caller reports the error). */
  log?: Logger;
}

export interface OrthancChange {
  ChangeType: string;
  ResourceType: string;
  ID: string;
  Seq: number;
  Path?: string;
  Date?: string;
}

export interface OrthancChanges {
  Changes: OrthancChange[];
  Done: boolean;
  Last: number;
}

export type OrthancTags = Record<string, string | undefined>;

export interface OrthancStudy {
  ID: string;
  MainDicomTags?: OrthancTags;
  PatientMainDicomTags?: OrthancTags;
  Series?: string[];
}

export interface OrthancSeries {
  ID: string;
  MainDicomTags?: OrthancTags;
  Instances?: string[];
}

export interface OrthancEndpoint {
  /** The URL without credentials, safe to print. */
  baseUrl: string;
  authorization: string | null;
}

/** Splits `http://login:password@host:8042/` into a printable base URL and a basic-auth header. */
export function parseOrthancUrl(settings: Pick<OrthancSettings, 'url' | 'username' | 'password'>): OrthancEndpoint {
  let u: URL;
  try {
    u = new URL(settings.url);
  } catch (cause) {
    throw new DatabaseError('DB_UNREACHABLE', 'orthanc.url is not an absolute http:// URL', { cause });
  }
  // Explicit settings win over the URL's own login, which Orthanc users often write instead.
  const user = settings.username || decodeURIComponent(u.username);
  const password = settings.username ? (settings.password ?? '') : decodeURIComponent(u.password) || (settings.password ?? '');
  u.username = '';
  u.password = '';
  const baseUrl = u.toString().replace(/\/+$/, '');
  const authorization = user ? `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}` : null;
  return { baseUrl, authorization };
}

/** undici cuts an answer off at the dispatcher's maxResponseSize as it streams in: one pool per cap. */
interface CappedPool {
  agent: Agent;
  cap: number;
  setting: string;
}

function cappedPool(cap: number, setting: string): CappedPool {
  return { agent: new Agent({ maxResponseSize: cap, keepAliveTimeout: 10_000 }), cap, setting };
}

/** Orthanc is never retried within a pass: one attempt, whose whole-request limit is timeoutMs. */
function orthancHttp(timeoutMs: number, cap: number): HttpSettings {
  return {
    timeout_ms: timeoutMs, deadline_ms: timeoutMs, max_response_bytes: cap,
    retries: 0, min_backoff_ms: 1, max_backoff_ms: 1, ca_file: null,
  };
}

const NEVER = new AbortController().signal;
const SILENT = pino({ enabled: false });

export class OrthancClient {
  readonly endpoint: OrthancEndpoint;
  private readonly timeoutMs: number;
  private readonly answers: CappedPool;
  private readonly listing: CappedPool;
  private readonly log: Logger;

  constructor(settings: OrthancSettings) {
    this.endpoint = parseOrthancUrl(settings);
    this.timeoutMs = settings.timeoutMs ?? 30_000;
    this.answers = cappedPool(ORTHANC_ANSWER_CAP, 'the 16 MiB cap of Orthanc answers');
    this.listing = cappedPool(settings.maxListBytes ?? DEFAULT_ORTHANC_LIST_CAP, 'orthanc.max_list_bytes');
    this.log = settings.log ?? SILENT;
  }

  get baseUrl(): string {
    return this.endpoint.baseUrl;
  }

  /** GET returning JSON; `null` when Orthanc answers 404 (the resource is gone). */
  async getOrNull<T>(path: string): Promise<T | null> {
    return this.request<T>('GET', path, undefined, true);
  }

  async get<T>(path: string): Promise<T> {
    return (await this.request<T>('GET', path, undefined, false)) as T;
  }

  async post<T>(path: string, body: string): Promise<T> {
    return (await this.request<T>('POST', path, body, false)) as T;
  }

  async lastChange(): Promise<number> {
    return (await this.get<OrthancChanges>('/changes?last')).Last;
  }

  changes(since: number, limit: number): Promise<OrthancChanges> {
    return this.get<OrthancChanges>(`/changes?since=${since}&limit=${limit}`);
  }

  /** Every study's Orthanc ID (a bare list, cheap even for large archives). */
  async studyIds(): Promise<string[]> {
    return (await this.request<string[]>('GET', '/studies', undefined, false, this.listing)) as string[];
  }

  study(id: string): Promise<OrthancStudy | null> {
    return this.getOrNull<OrthancStudy>(`/studies/${encodeURIComponent(id)}`);
  }

  /** The study's series, expanded (Orthanc lists child resources with their tags). */
  studySeries(id: string): Promise<OrthancSeries[] | null> {
    return this.getOrNull<OrthancSeries[]>(`/studies/${encodeURIComponent(id)}/series`);
  }

  /** Orthanc IDs of the studies carrying this StudyInstanceUID (one per PatientID). */
  async studiesWithUid(studyIuid: string): Promise<string[]> {
    const found = await this.post<{ ID: string; Type: string }[]>('/tools/lookup', studyIuid);
    return found.filter((r) => r.Type === 'Study').map((r) => r.ID);
  }

  /** Orthanc IDs of the studies whose StudyDate is `day` (YYYY-MM-DD), by /tools/find on the index. */
  async studiesOfDay(day: string): Promise<string[]> {
    const query = { Level: 'Study', Query: { StudyDate: day.replace(/-/g, '') } };
    return (await this.request<string[]>('POST', '/tools/find', JSON.stringify(query), false, this.listing)) as string[];
  }

  private async request<T>(method: 'GET' | 'POST', path: string, body: string | undefined, nullOn404: boolean, pool = this.answers): Promise<T | null> {
    const { status, text } = await this.exchange(method, path, body, pool);
    if (status === 404 && nullOn404) return null;
    if (status < 200 || status >= 300) throw this.answered(status, `${method} ${path.split('?')[0]}`);
    try {
      return JSON.parse(text) as T;
    } catch (cause) {
      throw new DatabaseError('DB_UNREACHABLE', `Orthanc at ${this.endpoint.baseUrl} answered ${method} ${path.split('?')[0]} with a body that is not JSON`, { cause });
    }
  }

  /** One attempt, headers and body within timeoutMs, the body within the pool's cap. */
  private exchange(method: 'GET' | 'POST', path: string, body: string | undefined, pool: CappedPool): Promise<{ status: number; text: string }> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.endpoint.authorization) headers.authorization = this.endpoint.authorization;
    if (body !== undefined) headers['content-type'] = 'text/plain';
    const where = `${method} ${path.split('?')[0]}`;
    return requestWithRetry(`${this.endpoint.baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : Buffer.from(body, 'utf8') }, {
      agent: pool.agent, http: orthancHttp(this.timeoutMs, pool.cap), log: this.log, signal: NEVER,
      what: { orthanc: where }, failedMessage: 'orthanc request failed', failures: this.failures(where, pool),
    });
  }

  private answered(status: number, where: string): DatabaseError {
    return new DatabaseError('DB_UNREACHABLE', `Orthanc at ${this.endpoint.baseUrl} answered HTTP ${status} to ${where}`);
  }

  /** Orthanc's meaning of each transport failure: the database family, with Orthanc's keys in hints. */
  private failures(where: string, pool: CappedPool): FailureMapping {
    const base = `Orthanc at ${this.endpoint.baseUrl}`;
    return (failure) => {
      switch (failure.kind) {
        case 'refused':
          return new DatabaseError('DB_PRIVILEGES', `${base} refused the credentials (HTTP ${failure.status})`, {
            hint: this.endpoint.authorization
              ? 'check orthanc.username/orthanc.password (or the login:password@ part of orthanc.url)'
              : 'Orthanc requires a login: set orthanc.username and orthanc.password',
          });
        case 'too-large':
          return new DatabaseError('DB_UNREACHABLE', `${base} answered ${where} with more than ${pool.cap} bytes (${pool.setting}): not read further`, {
            cause: failure.cause,
            hint: pool === this.listing ? 'raise orthanc.max_list_bytes if the archive really holds that many studies' : 'check orthanc.url points at Orthanc',
          });
        case 'unavailable':
          if (failure.status !== undefined) return this.answered(failure.status, where);
          if (failure.timedOut) return this.unreachable(`did not answer ${where} within ${this.timeoutMs} ms`, failure.cause);
          return this.unreachable('is unreachable', failure.cause);
        case 'permanent':
          return this.unreachable('is unreachable', failure.cause);
      }
    };
  }

  private unreachable(what: string, cause: unknown): DatabaseError {
    return new DatabaseError('DB_UNREACHABLE', `Orthanc at ${this.endpoint.baseUrl} ${what}`, {
      cause, hint: 'check orthanc.url and that Orthanc is running',
    });
  }
}
