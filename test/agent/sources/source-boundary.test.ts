import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SOURCE_NAMES } from '../../../src/agent/sources/registry.js';
import { REPO_ROOT } from '../support/agent-harness.js';

/**
 * `src/agent/sources/<name>/` is the only place that knows a source: commands, runtime, pipeline,
 * reconcile and the receiver reach one only through its plug-in object and the registry. Comments
 * may name a source; code (imports, strings, identifiers) may not.
 */
const SRC = join(REPO_ROOT, 'src');
const SOURCES_DIR = 'agent/sources';
/** The registry maps the `source` setting to the plug-ins, source-configs.ts to their configuration fragments. */
const MAY_NAME = new Set([`${SOURCES_DIR}/registry.ts`, `${SOURCES_DIR}/source-configs.ts`]);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** The code without its comments (block comments, and line comments not inside a URL such as http://). */
export function codeOf(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\w])\/\/.*$/gm, '$1');
}

/** Files outside a source's own folder that import it or name a source in code: `file: what`. */
export function boundaryViolations(srcRoot: string, names: readonly string[]): string[] {
  const out: string[] = [];
  const mention = new RegExp(`\\b(${names.join('|')})\\b`, 'i');
  for (const path of files(srcRoot)) {
    const rel = relative(srcRoot, path).split('\\').join('/');
    if (names.some((n) => rel.startsWith(`${SOURCES_DIR}/${n}/`))) continue;
    const code = codeOf(readFileSync(path, 'utf8'));
    for (const m of code.matchAll(/from\s+['"]([^'"]+)['"]/g)) {
      const spec = m[1]!;
      const into = names.find((n) => spec.includes(`sources/${n}/`) || spec.startsWith(`./${n}/`) && rel.startsWith(`${SOURCES_DIR}/`));
      if (into && !MAY_NAME.has(rel)) out.push(`${rel}: imports ${spec}`);
    }
    // The receiver is another program: it cannot know the agent's sources (imports are checked
    // above), and its DICOM service is named for the protocol, as one source is.
    if (MAY_NAME.has(rel) || rel.startsWith('receiver/')) continue;
    // A package's name (dcmjs-dimse), wherever the file quotes it, is not a source's.
    const packages = [...code.matchAll(/from\s+['"]([^'"./][^'"]*)['"]/g)].map((m) => m[1]!);
    const named = mention.exec(packages.reduce((c, p) => c.split(`'${p}'`).join("''"), code));
    if (named) out.push(`${rel}: names ${named[1]} in code`);
  }
  return out;
}

describe('source boundary', () => {
  it('every registered source has its folder, and none is known outside it', () => {
    expect(SOURCE_NAMES.length).toBeGreaterThanOrEqual(2);
    for (const name of SOURCE_NAMES) expect(statSync(join(SRC, SOURCES_DIR, name)).isDirectory(), name).toBe(true);
    expect(boundaryViolations(SRC, SOURCE_NAMES)).toEqual([]);
  });

  it('a package import is not a mention of a source', () => {
    expect(boundaryViolations(SRC, ['dimse']).filter((v) => v.startsWith('shared/'))).toEqual([]);
  });

  it('finds an import of a source folder or a source named in code, not one named in a comment', () => {
    const code = codeOf("// dcm4chee only\nconst u = 'http://x'; /* orthanc */ const s = 'orthanc';");
    expect(code).toContain("'http://x'");
    expect(code).not.toContain('dcm4chee');
    expect(code.match(/orthanc/g)).toHaveLength(1);
  });
});
