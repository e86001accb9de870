// The build.json the generator writes next to each variant's sources, and its validation.
// The generator owns the content; this module only reads it and says precisely what is wrong.
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export interface ObjectSpec {
  /** Output name: build/<variantId>/<name>.o; links refer to objects by this name. */
  name: string;
  /** Source file, relative to the variant folder. */
  source: string;
  /** Parse this object's `ptxas -v` report and check it for spills and local memory. */
  ptxasReport: boolean;
}

export interface LinkSpec {
  /** `libmlagen` (shared) becomes libmlagen.so; an executable keeps its name. */
  name: string;
  kind: 'shared' | 'executable';
  /** Names of objects of this variant, in link order. */
  objects: string[];
  /** Extra linker arguments, e.g. ["-ldl"]. */
  libs: string[];
}

export interface BuildSpec {
  variantId: string;
  allowSpills: boolean;
  allowLocalMemory: boolean;
  /** Optional in build.json (default false): accept ptxas serializing the wgmma pipeline. */
  allowSerializedWgmma: boolean;
  /** Relative to the repository root. */
  includeDirs: string[];
  nvccFlags: string[];
  objects: ObjectSpec[];
  links: LinkSpec[];
}

export const BUILD_SPEC_FILE = 'build.json';

export class BuildSpecError extends Error {
  constructor(file: string, problems: string[]) {
    super(`${file} is not a valid build spec:\n  - ${problems.join('\n  - ')}`);
    this.name = 'BuildSpecError';
  }
}

export async function readBuildSpec(variantDir: string): Promise<BuildSpec> {
  const file = path.join(variantDir, BUILD_SPEC_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new BuildSpecError(file, [(err as Error).message]);
  }
  return parseBuildSpec(raw, file);
}

/** Checks every field and reports all problems at once, each with its JSON path. */
export function parseBuildSpec(raw: unknown, file: string): BuildSpec {
  const problems: string[] = [];
  const obj = isRecord(raw) ? raw : (problems.push('top level: expected an object'), {});

  const str = (o: Record<string, unknown>, key: string, at: string): string => {
    const v = o[key];
    if (typeof v === 'string' && v.length > 0) return v;
    problems.push(`${at}.${key}: expected a non-empty string, got ${JSON.stringify(v)}`);
    return '';
  };
  const bool = (o: Record<string, unknown>, key: string, at: string): boolean => {
    const v = o[key];
    if (typeof v === 'boolean') return v;
    problems.push(`${at}.${key}: expected true or false, got ${JSON.stringify(v)}`);
    return false;
  };
  const strings = (o: Record<string, unknown>, key: string, at: string): string[] => {
    const v = o[key];
    if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v as string[];
    problems.push(`${at}.${key}: expected an array of strings, got ${JSON.stringify(v)}`);
    return [];
  };
  const records = (o: Record<string, unknown>, key: string, at: string): Record<string, unknown>[] => {
    const v = o[key];
    if (Array.isArray(v) && v.every(isRecord)) return v;
    problems.push(`${at}.${key}: expected an array of objects`);
    return [];
  };

  const spec: BuildSpec = {
    variantId: str(obj, 'variantId', '$'),
    allowSpills: bool(obj, 'allowSpills', '$'),
    allowLocalMemory: bool(obj, 'allowLocalMemory', '$'),
    allowSerializedWgmma: obj['allowSerializedWgmma'] === undefined ? false : bool(obj, 'allowSerializedWgmma', '$'),
    includeDirs: strings(obj, 'includeDirs', '$'),
    nvccFlags: strings(obj, 'nvccFlags', '$'),
    objects: records(obj, 'objects', '$').map((o, i) => ({
      name: str(o, 'name', `$.objects[${i}]`),
      source: str(o, 'source', `$.objects[${i}]`),
      ptxasReport: bool(o, 'ptxasReport', `$.objects[${i}]`),
    })),
    links: records(obj, 'links', '$').map((l, i) => {
      const at = `$.links[${i}]`;
      const kind = l['kind'];
      if (kind !== 'shared' && kind !== 'executable') {
        problems.push(`${at}.kind: expected "shared" or "executable", got ${JSON.stringify(kind)}`);
      }
      return {
        name: str(l, 'name', at),
        kind: kind === 'executable' ? 'executable' : 'shared',
        objects: strings(l, 'objects', at),
        libs: strings(l, 'libs', at),
      };
    }),
  };

  const objectNames = new Set<string>();
  for (const o of spec.objects) {
    if (objectNames.has(o.name)) problems.push(`$.objects: the name "${o.name}" is used twice`);
    objectNames.add(o.name);
  }
  spec.links.forEach((l, i) => {
    for (const name of l.objects) {
      if (!objectNames.has(name)) {
        problems.push(`$.links[${i}].objects: "${name}" is not one of the objects (${[...objectNames].join(', ')})`);
      }
    }
  });

  if (problems.length > 0) throw new BuildSpecError(file, problems);
  return spec;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
