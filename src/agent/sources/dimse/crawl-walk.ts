import { emptyConversionStats, type ConversionStats } from '../../record/conversion-stats.js';
import { answerRecord } from './answer-record.js';
import type { Outcome, WindowWalk } from './outcome-queue.js';
import { SpanGauge } from './span-gauge.js';
import { recordIncomplete } from './dimse-state.js';
import { addDays, daysBetween } from './study-days.js';
import type { WindowReader } from './window-reader.js';

/**
 * The initial crawl: from `nextDay` back to the oldest day of the history, newest first; each
 * window's place is stored once its studies are acknowledged, so a killed crawl resumes there.
 */
export class CrawlWalk implements WindowWalk {
  private stats = emptyConversionStats();
  private readonly span: SpanGauge;

  constructor(private readonly reader: WindowReader, private nextDay: string, private readonly oldest: string, maxSpanDays: number, private readonly center: string) {
    this.span = new SpanGauge(maxSpanDays);
  }

  get daysLeft(): number {
    return daysBetween(this.oldest, this.nextDay);
  }

  async next(): Promise<Outcome | null> {
    const to = this.nextDay;
    if (to < this.oldest) return null;
    const earliest = addDays(to, -(this.span.days - 1));
    const from = earliest < this.oldest ? this.oldest : earliest;
    const before = this.reader.queries;
    const read = await this.reader.read({ from, to });
    this.span.adapt(read.answers.length, this.reader.queries - before > 1, this.reader.cap);
    this.nextDay = addDays(from, -1);
    this.stats.missing_iuid += read.dropped;
    const records = read.answers.map((a) => answerRecord(a, this.center, 0, this.stats));
    // Counted now: a window bigger than a chunk leaves the queue in parts.
    const count = records.length;
    return {
      records, gone: [], days: daysBetween(from, to), read: count,
      apply(s, at) {
        s.initial.next_day = addDays(from, -1);
        s.initial.crawled += count;
        recordIncomplete(s, from, to, read.incomplete, at);
      },
    };
  }

  takeStats(): ConversionStats {
    const out = this.stats;
    this.stats = emptyConversionStats();
    return out;
  }
}
