import { DatabaseError } from '../../shared/errors.js';

/**
 * The persistent "reconcile needed" mark: the agent knows changes may have been lost, or the
 * receiver may hold studies the source no longer has. `token` changes every time it is set, so a
 * reconcile clears only a mark it saw at its start (docs/reconcile.md, "Reconcile needed").
 */
export interface ReconcileMark {
  why: string;
  /** When it was (last) set, for people; never compared. */
  at: string;
  token: string;
}

/** One finding, without patient data: a stable code and the text naming the repair. */
export interface CaptureFinding {
  code: string;
  message: string;
  /** It loses changes: the source marks "reconcile needed" (docs/reconcile.md). */
  loses?: boolean;
}

/**
 * Whether a source's capture still works (a source with triggers): what `status` reports and
 * every pass verifies (docs/capture.md, "Verified on every pass"). Source-agnostic: a source that
 * captures nothing of its own has no `captureHealth` at all.
 */
export interface CaptureHealth {
  ok: boolean;
  /** Where the capture lives, for messages (e.g. "PACS database pacsdb"). */
  where: string;
  /** A PACS write fails, a change is lost or was lost, or the agent itself cannot work. */
  problems: CaptureFinding[];
  /** Worth knowing, never a failure (an unverifiable definer, the initial load not done). */
  notes: CaptureFinding[];
}

/**
 * A broken capture found after a pass delivered what was queued (or by `status`): the command
 * fails (exit 3) so a cron-only site learns of it, naming every problem and its repair.
 */
export function captureUnhealthyError(health: CaptureHealth): DatabaseError {
  const list = health.problems.map((p) => `\n  - ${p.message}`).join('');
  return new DatabaseError('CAPTURE_UNHEALTHY', `the capture in ${health.where} needs repair:${list}`, {
    hint: 'until it is repaired PACS writes may fail or changes go uncaptured; `indexer check` shows every detail',
  });
}

/** Why a "reconcile needed" mark is set for these findings (those that lose changes), or null. */
export function lostChangesWhy(health: Pick<CaptureHealth, 'problems'>): string | null {
  const codes = [...new Set(health.problems.filter((p) => p.loses).map((p) => p.code))];
  return codes.length === 0 ? null : `the capture lost changes: ${codes.join(', ')}`;
}

/** The `indexer check` line of a set mark: a failure (exit 3) until a repairing reconcile. */
export function reconcileNeededLine(mark: ReconcileMark | null): { ok: false; exit: number; text: string } | null {
  if (!mark) return null;
  return { ok: false, exit: 3, text: `changes may be missing at the receiver (${mark.why}, since ${mark.at}): run \`indexer reconcile\`` };
}

/** Logged by every pass while the mark is set (the pass itself still succeeds). */
export const RECONCILE_NEEDED_MESSAGE = 'changes may be missing at the receiver: run `indexer reconcile`';
