/**
 * How many days the crawl and the sweeps ask in one query: quiet stretches together (an empty
 * decade in a few queries), busy ones day by day. Doubles after a small answer, halves after one
 * that had to be split.
 */
export class SpanGauge {
  private span = 1;

  constructor(private readonly maxDays: number) {}

  get days(): number {
    return this.span;
  }

  adapt(answers: number, split: boolean, cap: number): void {
    if (split) this.span = Math.max(1, Math.floor(this.span / 2));
    else if (answers < (cap > 0 ? cap / 4 : 250)) this.span = Math.min(this.span * 2, this.maxDays);
  }
}
