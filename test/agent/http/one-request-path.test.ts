import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/agent-harness.js';

/**
 * The agent has one HTTP request path, src/agent/http/http-transport.ts (deadline, size cap,
 * bounded retries, failure mapping): no other module sends a request itself. Creating a
 * connection pool (undici's Agent) elsewhere is fine; sending is not.
 */
const AGENT = join(REPO_ROOT, 'src/agent');
const THE_PATH = 'http/http-transport.ts';
const SENDERS = new Set(['request', 'fetch', 'stream', 'pipeline', 'connect', 'upgrade']);

/** The code without its comments (block comments, and line comments not inside a URL). */
function codeOf(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\w])\/\/.*$/gm, '$1');
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** What a module uses to send HTTP requests, other than through the transport. */
export function requestSenders(code: string): string[] {
  const out: string[] = [];
  for (const m of code.matchAll(/import\s+(?!type\b)\{([^}]*)\}\s+from\s+['"](undici|node:https?|https?)['"]/g)) {
    for (const name of m[1]!.split(',').map((n) => n.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0]!)) {
      if (SENDERS.has(name) || (m[2] !== 'undici' && name === 'get')) out.push(`${name} from ${m[2]}`);
    }
  }
  if (/import\s+\*\s+as\s+\w+\s+from\s+['"](undici|node:https?|https?)['"]/.test(code)) out.push('namespace import');
  if (/(^|[^.\w])fetch\s*\(/.test(code)) out.push('global fetch');
  return out;
}

describe('one request path for the agent', () => {
  it('recognises a request sent outside the transport', () => {
    expect(requestSenders("import { Agent, request } from 'undici';")).toEqual(['request from undici']);
    expect(requestSenders("import { get } from 'node:https';")).toEqual(['get from node:https']);
    expect(requestSenders('const r = await fetch(url);')).toEqual(['global fetch']);
    expect(requestSenders("import { Agent } from 'undici';\nimport type { Dispatcher } from 'undici';")).toEqual([]);
  });

  it('no module under src/agent but the transport sends HTTP requests', () => {
    const found = files(AGENT)
      .map((path) => ({ rel: relative(AGENT, path).split('\\').join('/'), path }))
      .filter(({ rel }) => rel !== THE_PATH)
      .flatMap(({ rel, path }) => requestSenders(codeOf(readFileSync(path, 'utf8'))).map((what) => `${rel}: ${what}`));
    expect(found).toEqual([]);
  });
});
