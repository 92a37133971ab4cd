import { DatabaseError } from '../../shared/errors.js';

/** One finding, without patient data: a stable code and the text naming the repair. */
export interface CaptureFinding {
  code: string;
  message: string;
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
