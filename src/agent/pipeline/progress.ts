import type { Logger } from '../../shared/logger.js';

export interface ProgressSink {
  interactive: boolean;
  stderr: (text: string) => void;
  log: Logger;
}

/** done/total, rate and ETA: a bar on a terminal, a JSON log line every few seconds otherwise. */
export class Progress {
  private readonly startedMs = performance.now();
  private lastReportMs = 0;
  private done = 0;

  constructor(private readonly sink: ProgressSink, private readonly total: number, private readonly intervalMs = 5000) {}

  advance(count: number): void {
    this.done += count;
    const now = performance.now();
    const every = this.sink.interactive ? 200 : this.intervalMs;
    if (now - this.lastReportMs >= every) {
      this.lastReportMs = now;
      this.report(false);
    }
  }

  finish(): void {
    this.report(true);
  }

  private report(final: boolean): void {
    const elapsedS = Math.max(0.001, (performance.now() - this.startedMs) / 1000);
    const rate = this.done / elapsedS;
    const total = Math.max(this.total, this.done);
    const etaS = rate > 0 ? Math.round((total - this.done) / rate) : null;
    if (this.sink.interactive) {
      const width = 30;
      const filled = total > 0 ? Math.round((this.done / total) * width) : width;
      const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
      const eta = etaS === null ? '?' : formatDuration(etaS);
      this.sink.stderr(`\r[${bar}] ${this.done}/${total} ${Math.round(rate)}/s ETA ${eta}  ${final ? '\n' : ''}`);
    } else {
      this.sink.log.info({ done: this.done, total, rate: Math.round(rate), eta_s: etaS, final }, 'initial progress');
    }
  }
}

export function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s).padStart(2, '0')}s`;
}
