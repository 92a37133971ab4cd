import { describe, expect, it } from 'vitest';
import { Progress, formatDuration } from '../../../src/agent/pipeline/progress.js';
import { createLogger } from '../../../src/shared/logger.js';

function capture() {
  const lines: string[] = [];
  const log = createLogger({ level: 'info', destination: { write: (s: string) => lines.push(s) } });
  return { lines, log };
}

describe('initial load progress', () => {
  it('draws a bar with done/total, rate and ETA on a terminal', () => {
    const out: string[] = [];
    const { log } = capture();
    const p = new Progress({ interactive: true, stderr: (t) => out.push(t), log }, 100);
    p.advance(50);
    p.finish();
    expect(out[0]).toMatch(/^\r\[#{15}-{15}\] 50\/100 \d+\/s ETA \d+m\d\ds/);
    expect(out.at(-1)).toMatch(/\n$/);
  });

  it('logs JSON progress lines otherwise', () => {
    const { lines, log } = capture();
    const p = new Progress({ interactive: false, stderr: () => undefined, log }, 10);
    p.advance(4);
    p.finish();
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.at(-1)).toMatchObject({ msg: 'initial progress', done: 4, total: 10, final: true });
    expect(typeof parsed.at(-1)!.rate).toBe('number');
  });

  it('formats durations', () => {
    expect(formatDuration(65)).toBe('1m05s');
    expect(formatDuration(3720)).toBe('1h02m');
  });
});
