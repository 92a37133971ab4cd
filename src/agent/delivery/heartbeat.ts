import { packageVersion } from '../../shared/package-version.js';
import type { Logger } from '../../shared/logger.js';
import type { AgentConfig } from '../config.js';
import { createHttpAgent, postWithRetry } from '../http/http-transport.js';
import type { RunSummary } from '../pipeline/run-summary.js';
import type { StudySource } from '../sources/study-source.js';
import { gatherHeartbeat, type HeartbeatBody } from './heartbeat-body.js';

type HeartbeatConfig = Pick<AgentConfig, 'url' | 'center' | 'key' | 'http' | 'protocol' | 'source' | 'heartbeat_interval_s'>;

/** One attempt, over within this (or http.deadline_ms, if shorter): a heartbeat never holds a pass up. */
export const HEARTBEAT_DEADLINE_MS = 10_000;

export function heartbeatUrl(baseUrl: string, center: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/api/v2/centers/${encodeURIComponent(center)}/heartbeat`;
}

/** The version the receiver's schema accepts (printable ASCII, no blank), else "unknown". */
function agentVersion(): string {
  const v = packageVersion();
  return /^[\x21-\x7e]{1,64}$/.test(v) ? v : 'unknown';
}

/** Posts the status of a centre's agent to the receiver (v2 only; `heartbeat_interval_s` 0: never). */
export interface Heartbeat {
  /** Gathers and posts: after `pass` when given. Never throws; a failure is logged at warn and forgotten. */
  post(source: StudySource, signal: AbortSignal, pass?: RunSummary): Promise<void>;
  /** When the last post was attempted (ms, Date.now()), 0 before the first. */
  lastAttemptAt(): number;
}

export function heartbeatsEnabled(config: HeartbeatConfig): boolean {
  return config.protocol === 'v2' && config.heartbeat_interval_s > 0 && config.url !== '' && config.key !== '';
}

/** One short attempt: no retry, a short deadline; the answer is not read beyond its status. */
export async function sendHeartbeat(config: HeartbeatConfig, body: HeartbeatBody, log: Logger, signal: AbortSignal): Promise<boolean> {
  const deadline = Math.min(config.http.deadline_ms, HEARTBEAT_DEADLINE_MS);
  const http = { ...config.http, retries: 0, deadline_ms: deadline, timeout_ms: Math.min(config.http.timeout_ms, deadline), max_response_bytes: 64 * 1024 };
  const agent = createHttpAgent(http, 1);
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${config.key}` };
  try {
    // The transport's per-attempt warning is left out: the one warning below says it all.
    const quiet = log.isLevelEnabled('error') ? log.child({}, { level: 'error' }) : log;
    const res = await postWithRetry(heartbeatUrl(config.url, config.center), headers, Buffer.from(JSON.stringify(body)), {
      agent, http, log: quiet, signal, what: { heartbeat: true }, failedMessage: 'heartbeat post failed',
    });
    if (res.status === 200) return true;
    log.warn({ status: res.status }, 'heartbeat refused by the receiver (an older receiver has no heartbeat route); the pass is not affected');
    return false;
  } catch (err) {
    log.warn({ code: (err as { code?: unknown }).code ?? 'UNEXPECTED' }, 'heartbeat not delivered; the pass is not affected');
    return false;
  } finally {
    await agent.close().catch(() => undefined);
  }
}

export function createHeartbeat(config: HeartbeatConfig, log: Logger): Heartbeat {
  const version = agentVersion();
  const enabled = heartbeatsEnabled(config);
  let last = 0;
  return {
    async post(source, signal, pass) {
      // A requested stop must be quick; a refused key would be refused again for the heartbeat.
      if (!enabled || signal.aborted || pass?.error?.code === 'RECEIVER_AUTH') return;
      last = Date.now();
      try {
        const body = await gatherHeartbeat(source, config.source, version, pass);
        if (await sendHeartbeat(config, body, log, signal)) log.debug({ backlog: body.backlog }, 'heartbeat posted');
      } catch (err) {
        log.warn({ code: (err as { code?: unknown }).code ?? 'UNEXPECTED' }, 'heartbeat not delivered; the pass is not affected');
      }
    },
    lastAttemptAt: () => last,
  };
}

export interface HeartbeatTimer {
  stop(): Promise<void>;
}

/**
 * `daemon`'s interval heartbeat: every `heartbeat_interval_s`, unless a pass is running (it posts
 * its own when it ends) or one was posted within the interval. `openSource` opens the source
 * without the pass lock (as `status` does), closed again after each heartbeat.
 */
export function startHeartbeatTimer(
  config: HeartbeatConfig, heartbeat: Heartbeat, opts: { signal: AbortSignal; passRunning: () => boolean; openSource: () => Promise<StudySource>; log: Logger },
): HeartbeatTimer {
  const intervalMs = config.heartbeat_interval_s * 1000;
  let inFlight: Promise<void> | undefined;
  const tick = async (): Promise<void> => {
    if (opts.signal.aborted || opts.passRunning() || Date.now() - heartbeat.lastAttemptAt() < intervalMs / 2) return;
    let source: StudySource | undefined;
    try {
      source = await opts.openSource();
      await heartbeat.post(source, opts.signal);
    } catch (err) {
      opts.log.warn({ code: (err as { code?: unknown }).code ?? 'UNEXPECTED' }, 'heartbeat not delivered: the source could not be opened');
    } finally {
      await source?.close().catch(() => undefined);
    }
  };
  const timer = heartbeatsEnabled(config)
    ? setInterval(() => {
      inFlight ??= tick().finally(() => {
        inFlight = undefined;
      });
    }, intervalMs)
    : undefined;
  timer?.unref();
  return {
    async stop() {
      if (timer) clearInterval(timer);
      await inFlight;
    },
  };
}
