import { ConfigError, type IndexerError } from '../../../shared/errors.js';
import { runAssociation, type Endpoint } from './association.js';
import { callerAborted, DimseError, hexStatus } from './dimse-errors.js';
import { CEchoRequest, CFindRequest, Status, type DimseResponse } from './dimse-library.js';
import { toStudyAnswer, RETURN_KEYS, type StudyAnswer } from './study-answer.js';
import { matchingElements, type StudyKeys } from './study-keys.js';

export type { StudyAnswer, StudyKeys };

/**
 * A DICOM network client of one PACS (C-ECHO, study-level C-FIND at Study Root) over
 * dcmjs-dimse. One association per call, one at a time per client: calls queue, and the next
 * starts only after the previous connection has closed. Every call has its own deadline, and the
 * caller's signal; at either the association is aborted and the call fails with a DimseError
 * (dimse-errors.ts: stable `dimseCode`, operator `hint`, project `code`). Nothing here logs.
 *
 *   const pacs = new DimseClient({ host, port, calledAet, callingAet });
 *   await pacs.echo();
 *   const { answers, status } = await pacs.findStudies({ StudyDate: '20240101-20240107' }, { signal });
 *   // status 'cancelled': the list is incomplete (a server cap, or maxAnswers) — narrow the window;
 *   // 'success' may still be a silently capped list (some servers): compare answers.length to the cap.
 *
 * Pacing (a pause between queries, a maximum per pass) is the caller's: a client only never
 * overlaps its own associations. Two clients of the same PACS do not know of each other.
 */
export interface DimseClientOptions {
  host: string;
  port: number;
  /** The PACS's AE title. */
  calledAet: string;
  /** The agent's AE title, as declared in the PACS. */
  callingAet: string;
  /** DICOM TLS: PEM `ca` to trust (default: the system's CAs), `cert` + `key` when the PACS asks for a client certificate. */
  tls?: { cert?: Buffer; key?: Buffer; ca?: Buffer };
  /** TCP connect limit. Default 10 000. */
  connectTimeoutMs?: number;
  /** Whole-call limit: connect, associate, every answer, release. Default 120 000. */
  queryDeadlineMs?: number;
}

export interface FindOptions {
  signal?: AbortSignal;
  /** Stop after this many answers: a C-CANCEL is sent, later answers are not kept. */
  maxAnswers?: number;
}

export interface FindResult {
  /** The answers, in the server's order. */
  answers: StudyAnswer[];
  /**
   * `success`: the server said the list is complete (a server that silently caps its answers
   * still says so); `cancelled`: the list is incomplete — the server ended it with Cancel
   * (0xFE00, e.g. a result limit) or maxAnswers stopped it; `failed`: a failure status.
   */
  status: 'success' | 'cancelled' | 'failed';
  /** The final DIMSE status as sent by the server (0x0000, 0xFE00, 0xA700, …). */
  statusCode: number;
  /** True when maxAnswers was reached and answers may be missing. */
  limited: boolean;
  /** Answers left out: no usable StudyInstanceUID. */
  dropped: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_QUERY_DEADLINE_MS = 120_000;

// AE: up to 16 characters of the default repertoire, no `\`, not only spaces (PS3.5 §6.2).
const AE_TITLE = /^(?! *$)[\x20-\x5b\x5d-\x7e]{1,16}$/;

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > 86_400_000) throw new ConfigError(`dimse: ${name} must be an integer of milliseconds, 1 to 86400000`);
  return value;
}

function endpointOf(o: DimseClientOptions): Endpoint {
  if (typeof o.host !== 'string' || !/^[^\s\x00-\x1f\x7f]{1,253}$/.test(o.host)) throw new ConfigError('dimse: host must be a host name or IP address');
  if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65_535) throw new ConfigError('dimse: port must be an integer 1 to 65535');
  for (const key of ['calledAet', 'callingAet'] as const) {
    if (typeof o[key] !== 'string' || !AE_TITLE.test(o[key])) throw new ConfigError(`dimse: ${key} must be an AE title of 1 to 16 ASCII characters, without \\`);
  }
  for (const key of ['cert', 'key', 'ca'] as const) {
    const v = o.tls?.[key];
    if (v !== undefined && !Buffer.isBuffer(v)) throw new ConfigError(`dimse: tls.${key} must be a Buffer of PEM text`);
  }
  if (o.tls && (o.tls.cert === undefined) !== (o.tls.key === undefined)) throw new ConfigError('dimse: tls.cert and tls.key go together');
  return {
    host: o.host, port: o.port, calledAet: o.calledAet, callingAet: o.callingAet, tls: o.tls,
    connectTimeoutMs: positive('connectTimeoutMs', o.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS),
  };
}

function findStatus(code: number): FindResult['status'] {
  if (code === Status.Success || code === 0x0001 || (code & 0xf000) === 0xb000) return 'success';
  return code === Status.Cancel ? 'cancelled' : 'failed';
}

const STATUS_WORDS: Record<number, string> = {
  0xa700: 'out of resources', 0xa900: 'identifier does not match SOP class', 0x0122: 'SOP class not supported', 0x0124: 'not authorized',
};

export class DimseClient {
  private readonly endpoint: Endpoint;
  private readonly deadlineMs: number;
  private tail: Promise<void> = Promise.resolve();

  constructor(options: DimseClientOptions) {
    this.endpoint = endpointOf(options);
    this.deadlineMs = positive('queryDeadlineMs', options.queryDeadlineMs, DEFAULT_QUERY_DEADLINE_MS);
  }

  /** C-ECHO: resolves when the PACS answers Success; else a DimseError (ECHO_FAILED, or how the association failed). */
  echo(options: { signal?: AbortSignal } = {}): Promise<void> {
    return this.queued(options.signal, async () => {
      const response = await runAssociation(this.endpoint, { service: 'C-ECHO', request: new CEchoRequest() }, this.limits(options.signal));
      const code = response.getStatus();
      if (code !== Status.Success) {
        throw new DimseError('ECHO_FAILED', `C-ECHO to ${this.describe()}: status ${hexStatus(code)}`, { statusCode: code });
      }
    });
  }

  /**
   * A study-level C-FIND at Study Root with `keys` as matching keys; every field of StudyAnswer
   * is asked back. Resolves with the answers and the final status, `failed` included (the caller
   * decides; `failureOf` makes it an error); rejects with a DimseError when the exchange broke.
   */
  async findStudies(keys: StudyKeys, options: FindOptions = {}): Promise<FindResult> {
    const elements = matchingElements(keys);
    const max = options.maxAnswers;
    if (max !== undefined && (!Number.isInteger(max) || max < 1)) throw new DimseError('INVALID_QUERY', 'findStudies: maxAnswers must be a positive integer');
    const returnKeys = Object.fromEntries(RETURN_KEYS.map((k) => [k, '']));
    return this.queued(options.signal, () => this.find({ ...returnKeys, ...elements }, max, options.signal));
  }

  /** FIND_FAILED for a result whose status is `failed`; null otherwise. */
  failureOf(result: FindResult): DimseError | null {
    if (result.status !== 'failed') return null;
    const words = STATUS_WORDS[result.statusCode] ?? ((result.statusCode & 0xf000) === 0xc000 ? 'unable to process' : 'failure');
    return new DimseError('FIND_FAILED', `C-FIND to ${this.describe()}: status ${hexStatus(result.statusCode)} (${words})`, { statusCode: result.statusCode });
  }

  private async find(elements: Record<string, string | string[]>, max: number | undefined, signal: AbortSignal | undefined): Promise<FindResult> {
    const answers: StudyAnswer[] = [];
    let dropped = 0;
    let discarded = 0;
    let cancelSent = false;
    const onPending = (response: DimseResponse, cancel: () => void): void => {
      if (max !== undefined && answers.length >= max) {
        discarded += 1;
        return;
      }
      const answer = response.hasDataset() ? toStudyAnswer(response.getDataset()?.getElements() ?? {}) : null;
      if (answer) answers.push(answer);
      else dropped += 1;
      if (max !== undefined && answers.length >= max && !cancelSent) {
        cancelSent = true;
        cancel();
      }
    };
    const request = CFindRequest.createStudyFindRequest(elements);
    const final = await runAssociation(this.endpoint, { service: 'C-FIND', request, onPending }, this.limits(signal));
    const statusCode = final.getStatus();
    const limited = cancelSent && (discarded > 0 || statusCode === Status.Cancel);
    const status = limited && findStatus(statusCode) !== 'failed' ? 'cancelled' : findStatus(statusCode);
    return { answers, status, statusCode, limited, dropped };
  }

  private describe(): string {
    const e = this.endpoint;
    return `${e.calledAet}@${e.host}:${e.port} (calling AE ${e.callingAet})`;
  }

  private limits(signal: AbortSignal | undefined): { deadlineMs: number; signal: AbortSignal | undefined } {
    return { deadlineMs: this.deadlineMs, signal };
  }

  /** Runs `task` after every earlier call has closed its connection; a signal fired while waiting rejects at once. */
  private queued<T>(signal: AbortSignal | undefined, task: () => Promise<T>): Promise<T> {
    if (signal?.aborted) return Promise.reject(this.stopped(signal));
    const turn = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((resolve) => (release = resolve));
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(this.stopped(signal!));
      signal?.addEventListener('abort', onAbort, { once: true });
      void turn.then(async () => {
        signal?.removeEventListener('abort', onAbort);
        try {
          if (signal?.aborted) throw this.stopped(signal);
          resolve(await task());
        } catch (err) {
          reject(err);
        } finally {
          release();
        }
      });
    });
  }

  private stopped(signal: AbortSignal): IndexerError {
    return callerAborted(signal, this.describe(), 'stopped by the caller before the association started');
  }
}
