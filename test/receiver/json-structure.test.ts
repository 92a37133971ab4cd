import { describe, expect, it } from 'vitest';
import { JsonStructureScanner, MAX_JSON_DEPTH } from '../../src/receiver/http/json-structure.js';

/** Feeds `text` in chunks of `size` bytes; the first violation, or null. */
function scan(text: string, maxDepth = MAX_JSON_DEPTH, maxTokens = 1000, size = 3): string | null {
  const s = new JsonStructureScanner(maxDepth, maxTokens);
  const buf = Buffer.from(text);
  for (let i = 0; i < buf.length; i += size) {
    const v = s.scan(buf.subarray(i, i + size));
    if (v) return v;
  }
  return null;
}

describe('JsonStructureScanner', () => {
  it('allows a record batch and nesting up to the limit', () => {
    expect(scan(JSON.stringify({ records: [{ study_iuid: '1.2', modalities: ['CT', 'SR'] }] }))).toBeNull();
    expect(scan('['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH))).toBeNull();
  });

  it('refuses nesting past the limit, objects or arrays', () => {
    expect(scan('['.repeat(MAX_JSON_DEPTH + 1))).toBe('depth');
    expect(scan('{"a":'.repeat(MAX_JSON_DEPTH + 1))).toBe('depth');
  });

  it('ignores brackets, quotes and commas inside strings, escapes split across chunks included', () => {
    const inside = JSON.stringify({ name: `${'['.repeat(100)}\\"${'{,:'.repeat(500)}` });
    for (const size of [1, 2, 3, 7, 64]) expect(scan(inside, MAX_JSON_DEPTH, 10, size), `chunks of ${size}`).toBeNull();
  });

  it('counts structural tokens: too many values is refused', () => {
    expect(scan(`[${'1,'.repeat(999)}1]`)).toBeNull();
    expect(scan(`[${'{},'.repeat(1000)}{}]`)).toBe('tokens');
  });
});
