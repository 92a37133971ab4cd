import type { DeliveryResult } from '../delivery/delivery.js';

/** What one reconcile found and did: logged as one line, stored as reconcile.last. */
export interface ReconcileReport {
  command: 'reconcile';
  dry_run: boolean;
  ok: boolean;
  started_at: string;
  finished_at: string | null;
  duration_ms: number;
  /** Live studies read at the source / held live by the receiver. */
  source_studies: number;
  receiver_studies: number;
  days_compared: number;
  days_differing: number;
  /** Differing days the receiver cannot hold (before year 1000): their studies are dead letters. */
  days_skipped: number;
  /** The first differing days, for an operator to look at (dates only). */
  differing_days: string[];
  /** Studies the receiver lacked or held as a tombstone. */
  missing: number;
  /** Studies the receiver held with other content. */
  different: number;
  /** Studies the receiver held live that exist nowhere at the source (tombstoned unless dry run). */
  extra: number;
  /** Studies the receiver held under another day than the source's (re-sent). */
  moved: number;
  /** Live records and tombstones sent. */
  resent: number;
  tombstones: number;
  stored: number;
  unchanged: number;
  stale: number;
  rejected: number;
  error?: { code: string; message: string };
}

export const DIFFERING_DAYS_SHOWN = 20;

export function startReport(dryRun: boolean, now = new Date()): ReconcileReport {
  return {
    command: 'reconcile', dry_run: dryRun, ok: false, started_at: now.toISOString(), finished_at: null, duration_ms: 0,
    source_studies: 0, receiver_studies: 0, days_compared: 0, days_differing: 0, days_skipped: 0, differing_days: [],
    missing: 0, different: 0, extra: 0, moved: 0, resent: 0, tombstones: 0, stored: 0, unchanged: 0, stale: 0, rejected: 0,
  };
}

export function addDelivery(report: ReconcileReport, result: DeliveryResult): void {
  report.stored += result.stored;
  report.unchanged += result.unchanged;
  report.stale += result.stale;
  report.rejected += result.rejected.length;
}

export function finishReport(report: ReconcileReport, startedMs: number, error?: unknown): ReconcileReport {
  report.finished_at = new Date().toISOString();
  report.duration_ms = Math.round(performance.now() - startedMs);
  report.ok = error === undefined;
  if (error !== undefined) {
    const e = error as { code?: string; message?: string };
    report.error = { code: e.code ?? 'UNEXPECTED', message: e.message ?? String(error) };
  }
  return report;
}

/**
 * What `indexer reconcile` prints on stdout: a few lines for a person at a terminal, the report
 * as one JSON object otherwise (scripts, cron logs). Dates and counts only, no patient data.
 */
export function renderReport(report: ReconcileReport, human: boolean): string {
  if (!human) return `${JSON.stringify(report)}\n`;
  const r = report;
  const verdict = !r.ok
    ? `FAILED${r.error ? `: ${r.error.code}` : ''}`
    : r.days_differing === 0 ? 'the receiver matches the source' : r.dry_run ? 'drift found (dry run: nothing sent)' : 'drift found and repaired';
  const lines = [
    `reconcile${r.dry_run ? ' (dry run)' : ''}: ${verdict}`,
    `  studies: ${r.source_studies} at the source, ${r.receiver_studies} at the receiver`,
    `  days compared: ${r.days_compared}, differing: ${r.days_differing}${r.days_skipped ? `, skipped: ${r.days_skipped}` : ''}`,
    `  missing ${r.missing}, different ${r.different}, extra ${r.extra}, moved ${r.moved}`,
  ];
  if (!r.dry_run) lines.push(`  sent ${r.resent} (tombstones ${r.tombstones}): stored ${r.stored}, unchanged ${r.unchanged}, stale ${r.stale}, rejected ${r.rejected}`);
  if (r.differing_days.length > 0) lines.push(`  differing days: ${r.differing_days.join(', ')}${r.days_differing > r.differing_days.length ? ', …' : ''}`);
  lines.push(`  took ${(r.duration_ms / 1000).toFixed(1)} s`);
  return `${lines.join('\n')}\n`;
}
