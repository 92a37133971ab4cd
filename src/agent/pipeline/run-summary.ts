import type { DeliveryResult } from '../delivery/delivery.js';
import { addConversionStats, emptyConversionStats, type ConversionStats } from '../record/conversion-stats.js';
import type { SourceChunk } from '../sources/study-source.js';

/** One pass's counts: logged as the run summary line and stored as last_run. */
export interface RunSummary {
  command: 'initial' | 'sync';
  started_at: string;
  finished_at: string | null;
  duration_ms: number;
  ok: boolean;
  read: number;
  sent: number;
  tombstones: number;
  stored: number;
  unchanged: number;
  stale: number;
  rejected: number;
  skipped: number;
  invalid: ConversionStats;
  /** Last position acknowledged in this pass (queue seq or study pk). */
  position: number | null;
  /** Primary keys of studies read without a usable study_iuid (never sent), the first few. */
  unidentified_study_pks?: number[];
  error?: { code: string; message: string };
}

/** Primary keys of unidentifiable studies kept in a summary (the count is invalid.missing_iuid). */
export const UNIDENTIFIED_SHOWN = 20;

export function startSummary(command: RunSummary['command'], now = new Date()): RunSummary {
  return {
    command, started_at: now.toISOString(), finished_at: null, duration_ms: 0, ok: false,
    read: 0, sent: 0, tombstones: 0, stored: 0, unchanged: 0, stale: 0, rejected: 0, skipped: 0,
    invalid: emptyConversionStats(), position: null,
  };
}

export function addChunk(summary: RunSummary, chunk: SourceChunk, result: DeliveryResult): void {
  summary.read += chunk.read;
  summary.sent += chunk.records.length - result.skipped;
  summary.tombstones += chunk.tombstones;
  summary.stored += result.stored;
  summary.unchanged += result.unchanged;
  summary.stale += result.stale;
  summary.rejected += result.rejected.length;
  summary.skipped += result.skipped;
  summary.position = chunk.position;
  addConversionStats(summary.invalid, chunk.stats);
  if (chunk.unidentified && chunk.unidentified.length > 0) {
    const pks = summary.unidentified_study_pks ?? [];
    for (const pk of chunk.unidentified) if (pks.length < UNIDENTIFIED_SHOWN && !pks.includes(pk)) pks.push(pk);
    summary.unidentified_study_pks = pks;
  }
}

export function finishSummary(summary: RunSummary, startedMs: number, error?: unknown): RunSummary {
  summary.finished_at = new Date().toISOString();
  summary.duration_ms = Math.round(performance.now() - startedMs);
  summary.ok = error === undefined;
  if (error !== undefined) {
    const e = error as { code?: string; message?: string };
    summary.error = { code: e.code ?? 'UNEXPECTED', message: e.message ?? String(error) };
  }
  return summary;
}
