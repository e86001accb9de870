// Finding nvcc, checking its version, and the exact argument lists we give it.
// Arguments are always arrays handed to execa: no shell, so paths with spaces or quotes are safe.
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';

/** CUDA 12.8 is the oldest nvcc we accept: our sm_90a device code relies on its PTX/ptxas features. */
export const MIN_CUDA_VERSION = { major: 12, minor: 8 } as const;

/** Hopper with the architecture-specific features (wgmma, setmaxnreg) enabled. */
export const ARCH_FLAGS = ['-gencode', 'arch=compute_90a,code=sm_90a'] as const;

/** `-Xptxas -v` gives the resource report we parse; `-fPIC` lets the objects go into libmlagen.so. */
export const FIXED_COMPILE_FLAGS = ['-Xptxas', '-v', '-Xcompiler', '-fPIC'] as const;

export interface NvccInfo {
  path: string;
  /** How it was found, for messages: "$NVCC", "$CUDA_HOME/bin/nvcc", "PATH" or "/usr/local/cuda". */
  foundVia: string;
  major: number;
  minor: number;
  /** e.g. "13.0.88". */
  version: string;
  /** All of `nvcc --version` (release, build id, date): what cache keys hold, so two builds of one release never mix. */
  versionOutput: string;
}

/** nvcc is missing or too old; the CLI maps this to its own exit code. */
export class NvccError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NvccError';
  }
}

interface Candidate {
  file: string;
  foundVia: string;
  /** An explicitly named nvcc that is missing is an error, not a reason to look elsewhere. */
  explicit: boolean;
}

/** The toolkit's default install location, often not on PATH in containers. */
const DEFAULT_LOCATIONS = ['/usr/local/cuda/bin/nvcc'];

function candidates(env: NodeJS.ProcessEnv, defaults: readonly string[]): Candidate[] {
  const list: Candidate[] = [];
  if (env['NVCC']) list.push({ file: env['NVCC'], foundVia: '$NVCC', explicit: true });
  if (env['CUDA_HOME']) {
    list.push({ file: path.join(env['CUDA_HOME'], 'bin', 'nvcc'), foundVia: '$CUDA_HOME/bin/nvcc', explicit: true });
  }
  for (const dir of (env['PATH'] ?? '').split(path.delimiter).filter(Boolean)) {
    list.push({ file: path.join(dir, 'nvcc'), foundVia: 'PATH', explicit: false });
  }
  for (const file of defaults) list.push({ file, foundVia: path.dirname(path.dirname(file)), explicit: false });
  return list;
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Parses `nvcc --version`, e.g. "Cuda compilation tools, release 13.0, V13.0.88". */
export function parseNvccVersion(text: string): { major: number; minor: number; version: string } | null {
  const m = /release (\d+)\.(\d+), V(\d+\.\d+\.\d+)/.exec(text);
  if (!m) return null;
  return { major: Number(m[1]), minor: Number(m[2]), version: m[3]! };
}

export function isSupportedVersion(v: { major: number; minor: number }): boolean {
  return v.major > MIN_CUDA_VERSION.major || (v.major === MIN_CUDA_VERSION.major && v.minor >= MIN_CUDA_VERSION.minor);
}

const INSTALL_HINT =
  `Install the CUDA Toolkit ${MIN_CUDA_VERSION.major}.${MIN_CUDA_VERSION.minor} or newer, ` +
  'or point $NVCC (or $CUDA_HOME) at one.';

/** Finds nvcc ($NVCC, $CUDA_HOME/bin/nvcc, PATH, /usr/local/cuda) and checks its version. */
export async function locateNvcc(env: NodeJS.ProcessEnv = process.env, defaults: readonly string[] = DEFAULT_LOCATIONS): Promise<NvccInfo> {
  const looked: string[] = [];
  for (const c of candidates(env, defaults)) {
    if (!(await isExecutable(c.file))) {
      if (c.explicit) throw new NvccError(`nvcc not found: ${c.foundVia} is ${c.file}, which is not an executable file. ${INSTALL_HINT}`);
      looked.push(c.file);
      continue;
    }
    const run = await execa(c.file, ['--version'], { reject: false });
    const parsed = parseNvccVersion(run.stdout);
    if (!parsed) {
      throw new NvccError(
        `${c.file} (found via ${c.foundVia}) did not report a CUDA release; \`nvcc --version\` said:\n${run.stdout}${run.stderr}`,
      );
    }
    if (!isSupportedVersion(parsed)) {
      throw new NvccError(
        `nvcc ${parsed.version} at ${c.file} (found via ${c.foundVia}) is too old: ` +
          `mlagen needs CUDA ${MIN_CUDA_VERSION.major}.${MIN_CUDA_VERSION.minor} or newer for sm_90a. ${INSTALL_HINT}`,
      );
    }
    return { path: c.file, foundVia: c.foundVia, ...parsed, versionOutput: run.stdout.trim() };
  }
  const where = looked.length > 0 ? ` Looked in: ${[...new Set(looked)].join(', ')}.` : '';
  throw new NvccError(`nvcc not found ($NVCC and $CUDA_HOME are unset and nvcc is not on PATH).${where} ${INSTALL_HINT}`);
}

/** Flags of one compile, without the input and output: exactly what the cache key hashes. */
export function compileFlags(variantFlags: readonly string[], includeDirs: readonly string[]): string[] {
  return [...ARCH_FLAGS, ...FIXED_COMPILE_FLAGS, ...variantFlags, ...includeDirs.map((d) => `-I${d}`)];
}

export function compileArgs(flags: readonly string[], source: string, output: string): string[] {
  return [...flags, '-c', source, '-o', output];
}

/** Flags of one link, without the inputs and output. nvcc adds the CUDA runtime. */
export function linkFlags(kind: 'shared' | 'executable'): string[] {
  return [...ARCH_FLAGS, ...(kind === 'shared' ? ['-shared'] : [])];
}

export function linkArgs(flags: readonly string[], objects: readonly string[], libs: readonly string[], output: string): string[] {
  return [...flags, '-o', output, ...objects, ...libs];
}

export interface NvccRun {
  ok: boolean;
  exitCode: number | undefined;
  /** ptxas -v writes its report to stderr, together with any compiler diagnostics. */
  stderr: string;
  stdout: string;
  /** The command, shell-quoted for humans to copy; never executed as a string. */
  commandLine: string;
}

export async function runNvcc(nvcc: NvccInfo, args: readonly string[], cwd: string): Promise<NvccRun> {
  const r = await execa(nvcc.path, args, { cwd, reject: false, stripFinalNewline: false });
  return {
    ok: !r.failed,
    exitCode: r.exitCode,
    stderr: String(r.stderr ?? ''),
    stdout: String(r.stdout ?? ''),
    commandLine: [nvcc.path, ...args].map(shellQuote).join(' '),
  };
}

function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}
