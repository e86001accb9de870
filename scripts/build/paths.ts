// Where the build reads and writes, relative to the repository root.
import path from 'node:path';

export interface BuildLayout {
  root: string;
  /** generated/<variantId>/: sources and build.json, written by `mlagen generate`. */
  generated: string;
  /** build/<variantId>/: objects, libraries, executables, logs, report.json (git-ignored). */
  build: string;
  /** .mlagen-cache/: content-addressed outputs (git-ignored). */
  cache: string;
}

export function buildLayout(root: string): BuildLayout {
  return {
    root,
    generated: path.join(root, 'generated'),
    build: path.join(root, 'build'),
    cache: path.join(root, '.mlagen-cache'),
  };
}

export { findRepoRoot } from '../../dsl/render/repoRoot.ts';
