// The project headers a source pulls in, transitively, so the cache can hash their text.
// Resolution follows nvcc: "quoted" names are looked up next to the including file, then in the -I
// folders; <angle> names only in the -I folders. A name found in neither is a system or toolkit
// header (cuda_runtime.h, cstdint): it changes with the nvcc version, which the key already holds.
// Every #include is followed, even inside #if blocks: hashing a header too many only costs a
// rebuild, missing one would serve a stale object.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';

const INCLUDE_LINE = /^[ \t]*#[ \t]*include[ \t]*(?:"([^"\n]+)"|<([^>\n]+)>)/gm;

export interface IncludedFile {
  /** Absolute path. */
  file: string;
  text: string;
}

/** The source followed by every project header it includes, each once, in first-seen order. */
export async function collectSources(source: string, includeDirs: readonly string[]): Promise<IncludedFile[]> {
  const seen = new Map<string, string>();
  const visit = async (file: string): Promise<void> => {
    if (seen.has(file)) return;
    const text = await readFile(file, 'utf8');
    seen.set(file, text);
    for (const m of text.matchAll(INCLUDE_LINE)) {
      const quoted = m[1];
      const name = quoted ?? m[2]!;
      const dirs = quoted !== undefined ? [path.dirname(file), ...includeDirs] : includeDirs;
      const found = await resolveInclude(name, dirs);
      if (found) await visit(found);
    }
  };
  await visit(path.resolve(source));
  return [...seen].map(([file, text]) => ({ file, text }));
}

async function resolveInclude(name: string, dirs: readonly string[]): Promise<string | null> {
  if (path.isAbsolute(name)) return (await isFile(name)) ? name : null;
  for (const dir of dirs) {
    const candidate = path.resolve(dir, name);
    if (await isFile(candidate)) return candidate;
  }
  return null;
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}
