import type { RunSummary } from '../pipeline/run-summary.js';
import type { StudySource } from '../sources/study-source.js';

/**
 * The heartbeat the agent posts (the receiver's schema: src/receiver/http/heartbeat-schemas.ts):
 * counts, codes and timestamps only. Never an error message, a study, a patient or a path: a
 * message can quote values, a code cannot (docs/agent.md, "Heartbeat").
 */
export interface HeartbeatBody {
  source: string;
  agent_version: string;
  backlog: number | null;
  oldest_unsent_age_s: number | null;
  last_pass: { command?: 'initial' | 'sync'; ok: boolean; error_code: string | null; finished_at: string | null; duration_ms?: number } | null;
  dead_letters: number | null;
  capture_ok: boolean | null;
  capture_problems: string[];
  last_reconcile: { ok: boolean; dry_run?: boolean; error_code: string | null; finished_at: string | null; days_differing?: number } | null;
  incomplete_windows: number | null;
}

const CODE = /^[A-Za-z0-9_.:-]{1,64}$/;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;
const MAX_COUNT = 1_000_000_000_000;
/** The receiver keeps at most this many problem codes. */
const MAX_PROBLEMS = 32;

/** A code the receiver accepts; anything else (prose, a value) becomes UNKNOWN rather than be sent. */
function codeOf(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  return typeof v === 'string' && CODE.test(v) ? v : 'UNKNOWN';
}

const timeOf = (v: unknown): string | null => (typeof v === 'string' && TIME.test(v) ? v : null);
const countOf = (v: unknown): number | null => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? Math.min(v, MAX_COUNT) : null);
const record = (v: unknown): Record<string, unknown> | null => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : null);

/** A pass summary (this pass's, or the stored last_run) reduced to its outcome. */
function passOf(run: unknown): HeartbeatBody['last_pass'] {
  const r = record(run);
  if (!r || typeof r.ok !== 'boolean') return null;
  const command = r.command === 'initial' || r.command === 'sync' ? r.command : undefined;
  const duration = countOf(r.duration_ms);
  return {
    ...(command ? { command } : {}), ok: r.ok, error_code: r.ok ? null : (codeOf(record(r.error)?.code) ?? 'UNKNOWN'),
    finished_at: timeOf(r.finished_at), ...(duration === null ? {} : { duration_ms: duration }),
  };
}

function reconcileOf(report: unknown): HeartbeatBody['last_reconcile'] {
  const r = record(report);
  if (!r || typeof r.ok !== 'boolean') return null;
  const days = countOf(r.days_differing);
  return {
    ok: r.ok, ...(typeof r.dry_run === 'boolean' ? { dry_run: r.dry_run } : {}), error_code: r.ok ? null : (codeOf(record(r.error)?.code) ?? 'UNKNOWN'),
    finished_at: timeOf(r.finished_at), ...(days === null ? {} : { days_differing: days }),
  };
}

/** A status read that fails (the PACS database down after a failed pass) leaves its fields unknown. */
async function orNull<T>(read: (() => Promise<T>) | undefined): Promise<T | null> {
  if (!read) return null;
  try {
    return await read();
  } catch {
    return null;
  }
}

/**
 * What `indexer status` gathers, as a heartbeat: `pass`, when given, is the pass just finished
 * (else the stored last_run). Reads only the source's state, never a study.
 */
export async function gatherHeartbeat(source: StudySource, sourceKind: string, agentVersion: string, pass?: RunSummary): Promise<HeartbeatBody> {
  const [status, health, queue] = await Promise.all([
    orNull(() => source.status()),
    orNull(source.captureHealth && (() => source.captureHealth!())),
    orNull(source.inspectQueue && (() => source.inspectQueue!(1))),
  ]);
  const incomplete = record(record(status?.detail)?.incomplete_days)?.count;
  return {
    source: sourceKind,
    agent_version: agentVersion,
    backlog: countOf(status?.backlog),
    oldest_unsent_age_s: countOf(queue?.oldest_age_s),
    last_pass: passOf(pass ?? status?.last_run),
    dead_letters: countOf(status?.dead_letters),
    capture_ok: health ? health.ok : null,
    capture_problems: health ? [...new Set(health.problems.map((p) => codeOf(p.code)!))].slice(0, MAX_PROBLEMS) : [],
    last_reconcile: reconcileOf(status?.last_reconcile),
    incomplete_windows: countOf(incomplete),
  };
}
