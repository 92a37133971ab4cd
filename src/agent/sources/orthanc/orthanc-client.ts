import { Agent, request } from 'undici';
import { DatabaseError } from '../../../shared/errors.js';

/**
 * The few Orthanc REST calls the agent needs, over undici with HTTP basic auth. Orthanc is the
 * PACS here, so its failures use the PACS ("database") error family and exit codes.
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

export class OrthancClient {
  readonly endpoint: OrthancEndpoint;
  private readonly timeoutMs: number;
  private readonly answers: CappedPool;
  private readonly listing: CappedPool;

  constructor(settings: OrthancSettings) {
    this.endpoint = parseOrthancUrl(settings);
    this.timeoutMs = settings.timeoutMs ?? 30_000;
    this.answers = cappedPool(ORTHANC_ANSWER_CAP, 'the 16 MiB cap of Orthanc answers');
    this.listing = cappedPool(settings.maxListBytes ?? DEFAULT_ORTHANC_LIST_CAP, 'orthanc.max_list_bytes');
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

  private async request<T>(method: string, path: string, body: string | undefined, nullOn404: boolean, pool = this.answers): Promise<T | null> {
    const { status, text } = await this.exchange(method, path, body, pool);
    if (status === 404 && nullOn404) return null;
    if (status === 401 || status === 403) {
      throw new DatabaseError('DB_PRIVILEGES', `Orthanc at ${this.endpoint.baseUrl} refused the credentials (HTTP ${status})`, {
        hint: this.endpoint.authorization
          ? 'check orthanc.username/orthanc.password (or the login:password@ part of orthanc.url)'
          : 'Orthanc requires a login: set orthanc.username and orthanc.password',
      });
    }
    if (status < 200 || status >= 300) {
      throw new DatabaseError('DB_UNREACHABLE', `Orthanc at ${this.endpoint.baseUrl} answered HTTP ${status} to ${method} ${path.split('?')[0]}`);
    }
    try {
      return JSON.parse(text) as T;
    } catch (cause) {
      throw new DatabaseError('DB_UNREACHABLE', `Orthanc at ${this.endpoint.baseUrl} answered ${method} ${path.split('?')[0]} with a body that is not JSON`, { cause });
    }
  }

  /** One request, headers and body within timeoutMs, the body within the pool's cap. */
  private async exchange(method: string, path: string, body: string | undefined, pool: CappedPool): Promise<{ status: number; text: string }> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.endpoint.authorization) headers.authorization = this.endpoint.authorization;
    if (body !== undefined) headers['content-type'] = 'text/plain';
    const deadline = AbortSignal.timeout(this.timeoutMs);
    try {
      const res = await request(`${this.endpoint.baseUrl}${path}`, {
        method: method as 'GET' | 'POST', headers, body, dispatcher: pool.agent, signal: deadline,
        headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs,
      });
      return { status: res.statusCode, text: await res.body.text() };
    } catch (cause) {
      const where = `${method} ${path.split('?')[0]}`;
      if ((cause as { code?: string }).code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') {
        throw new DatabaseError('DB_UNREACHABLE', `Orthanc at ${this.endpoint.baseUrl} answered ${where} with more than ${pool.cap} bytes (${pool.setting}): not read further`, {
          cause, hint: pool === this.listing ? 'raise orthanc.max_list_bytes if the archive really holds that many studies' : 'check orthanc.url points at Orthanc',
        });
      }
      const timedOut = deadline.aborted || /Timeout/.test(String((cause as { code?: string }).code ?? (cause as Error).name));
      const what = timedOut ? `did not answer ${where} within ${this.timeoutMs} ms` : 'is unreachable';
      throw new DatabaseError('DB_UNREACHABLE', `Orthanc at ${this.endpoint.baseUrl} ${what}`, {
        cause, hint: 'check orthanc.url and that Orthanc is running',
      });
    }
  }
}
