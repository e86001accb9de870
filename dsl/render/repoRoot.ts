// Where the repository is: the nearest folder at or above a start whose package.json is mlagen's.
// Works from the TypeScript sources, from the bundled dist/mlagen.mjs and from any working folder.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function findRepoRoot(start: string = process.cwd()): string {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'mlagen') return dir;
      } catch {
        // Not JSON: keep looking upwards.
      }
    }
    if (path.dirname(dir) === dir) return path.resolve(start);
  }
}

/** The root of the checkout this code was loaded from. */
export const REPO_ROOT = findRepoRoot(path.dirname(fileURLToPath(import.meta.url)));
