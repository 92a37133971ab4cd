/**
 * A streaming scan of a JSON body's structure, run over the decoded bytes before JSON.parse sees
 * them. JSON.parse builds whatever structure it is given: 60 MB of `[[[[…]]]]` took the receiver to
 * 3 GB and blocked its event loop for 11 s, and 20 M tiny `{}` cost ~1 GB, although the bytes were
 * within the body limits. Nesting deeper than any record needs, or more structural tokens than any
 * accepted batch holds, is refused at the first byte too many — nothing of it is ever parsed.
 * The scan only follows strings (quotes and escapes); JSON.parse still judges validity.
 */

/** A record needs depth 4 (`{records:[{modalities:[…]}]}`); the headroom is for clients, not for bombs. */
export const MAX_JSON_DEPTH = 32;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

export type StructureViolation = 'depth' | 'tokens';

/**
 * Feed it the body chunk by chunk; `scan` returns the limit a chunk broke, or null. Tokens are the
 * structural characters that make JSON.parse allocate (`{`, `[`, `,`, `:` outside strings): a value
 * or a key costs at most one.
 */
export class JsonStructureScanner {
  private depth = 0;
  private tokens = 0;
  private inString = false;
  private escaped = false;

  constructor(private readonly maxDepth: number, private readonly maxTokens: number) {}

  scan(chunk: Buffer): StructureViolation | null {
    let { depth, tokens, inString, escaped } = this;
    const n = chunk.length;
    for (let i = 0; i < n; i++) {
      const b = chunk[i]!;
      if (inString) {
        if (escaped) escaped = false;
        else if (b === BACKSLASH) escaped = true;
        else if (b === QUOTE) inString = false;
        continue;
      }
      if (b === QUOTE) inString = true;
      else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
        tokens += 1;
        if (++depth > this.maxDepth) return this.save(depth, tokens, inString, escaped, 'depth');
      } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) depth = Math.max(0, depth - 1);
      else if (b === COMMA || b === COLON) tokens += 1;
      else continue;
      if (tokens > this.maxTokens) return this.save(depth, tokens, inString, escaped, 'tokens');
    }
    return this.save(depth, tokens, inString, escaped, null);
  }

  private save(depth: number, tokens: number, inString: boolean, escaped: boolean, v: StructureViolation | null): StructureViolation | null {
    this.depth = depth;
    this.tokens = tokens;
    this.inString = inString;
    this.escaped = escaped;
    return v;
  }
}
