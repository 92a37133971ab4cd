import { readFileSync } from 'node:fs';

/**
 * The project's version from its package.json, for `--version`: found beside dist/ when built
 * (dist/src/<x>/) or at the root of the source tree (src/<x>/).
 */
export function packageVersion(from: string | URL = import.meta.url): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, from), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'pacs-indexer' && pkg.version) return pkg.version;
    } catch {
      // not this layout: try the next
    }
  }
  return 'unknown';
}
