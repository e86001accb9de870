// Content-hash cache of build outputs in .mlagen-cache/ (git-ignored).
// An object's key covers everything that can change it: the source text, the text of every project
// header it includes (transitively), the nvcc version and the full flag list. Timestamps play no
// part, so a fresh checkout or a regenerated-but-identical file still hits.
// Entries are never evicted; delete the folder to reclaim space.
import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { collectSources } from './includes.ts';

/** Bump when the key recipe or the entry layout changes, so old entries stop matching. */
const KEY_FORMAT = 'mlagen-build-cache/1';

export interface ObjectKeyInput {
  source: string;
  /** Absolute -I folders, in search order. */
  includeDirs: readonly string[];
  /** The `nvcc --version` text: a different compiler build means a different object. */
  nvccVersion: string;
  /** Every flag given to nvcc except the input and output paths. */
  flags: readonly string[];
}

export interface ObjectKey {
  key: string;
  /** The source and the project headers that went into the key (absolute paths). */
  files: string[];
}

export async function objectCacheKey(input: ObjectKeyInput): Promise<ObjectKey> {
  const sources = await collectSources(input.source, input.includeDirs);
  const hash = createHash('sha256');
  // Length-prefixed fields: no text can be shifted across a boundary and collide.
  const field = (s: string) => hash.update(`${Buffer.byteLength(s)}:`).update(s);
  field(KEY_FORMAT);
  field(input.nvccVersion);
  field(JSON.stringify(input.flags));
  for (const s of sources) field(s.text);
  return { key: hash.digest('hex'), files: sources.map((s) => s.file) };
}

/** A link's key: its inputs' keys (which already hold the sources), its flags, libs and nvcc. */
export function linkCacheKey(input: { objectKeys: readonly string[]; flags: readonly string[]; libs: readonly string[]; nvccVersion: string }): string {
  return createHash('sha256')
    .update(JSON.stringify([KEY_FORMAT, 'link', input.nvccVersion, input.flags, input.libs, input.objectKeys]))
    .digest('hex');
}

/** Maps a file name inside a cache entry to a path in the build folder. */
export type EntryFiles = Record<string, string>;

export class BuildCache {
  constructor(readonly dir: string) {}

  entryDir(key: string): string {
    return path.join(this.dir, key.slice(0, 2), key);
  }

  /** Copies the entry's files to their destinations; false (and nothing copied) on a miss. */
  async restore(key: string, files: EntryFiles): Promise<boolean> {
    const entry = this.entryDir(key);
    // An entry folder only appears complete (see store), so its presence means a hit.
    if (!(await exists(entry))) return false;
    for (const name of Object.keys(files)) {
      if (!(await exists(path.join(entry, name)))) return false;
    }
    for (const [name, dest] of Object.entries(files)) {
      await mkdir(path.dirname(dest), { recursive: true });
      await copyFile(path.join(entry, name), dest);
    }
    return true;
  }

  /** Saves the files under the key. Written to a temporary folder and renamed, so parallel builds never see half an entry. */
  async store(key: string, files: EntryFiles): Promise<void> {
    const entry = this.entryDir(key);
    const tmp = `${entry}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    await mkdir(tmp, { recursive: true });
    try {
      for (const [name, src] of Object.entries(files)) await copyFile(src, path.join(tmp, name));
      await rename(tmp, entry);
    } catch (err) {
      // Another build stored the same key first: its entry is as good as ours.
      if (!(await exists(entry))) throw err;
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}
