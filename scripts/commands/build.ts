// `mlagen build [variants...]`: compile, link and resource-check generated variants.
// Progress goes to stderr; stdout carries the summary, or with --json only the JSON result.
import { failWith, processIo, type CommandIo } from '../io.ts';
import { Command } from 'commander';
import { positiveInt } from './options.ts';
import { buildWithProgress, listVariants, type VariantBuildResult } from '../build/build.ts';
import { defaultConcurrency } from '../build/jobs.ts';
import { locateNvcc, NvccError, type NvccInfo } from '../build/nvcc.ts';
import { findRepoRoot } from '../build/paths.ts';

export const BUILD_EXIT = {
  ok: 0,
  /** At least one variant failed to compile, link or pass the resource check. */
  failed: 1,
  /** Nothing to build: no variant folders with a build.json. */
  nothingToBuild: 2,
  /** nvcc is missing or older than CUDA 12.8. */
  noNvcc: 3,
} as const;

export interface BuildCommandOptions {
  jobs?: number;
  json?: boolean;
  force?: boolean;
  /** Repository root; by default found from the working directory. */
  root?: string;
}

export interface BuildCommandIo extends CommandIo {
  progressStream?: NodeJS.WriteStream;
}

/** Runs the command and returns its exit code (see BUILD_EXIT); never calls process.exit. */
export async function runBuildCommand(variants: readonly string[], opts: BuildCommandOptions, io: BuildCommandIo = processIo): Promise<number> {
  const root = opts.root ?? findRepoRoot();
  const fail = failWith('build', io, opts.json);

  let nvcc: NvccInfo;
  try {
    nvcc = await locateNvcc();
  } catch (err) {
    if (err instanceof NvccError) return fail(BUILD_EXIT.noNvcc, err.message);
    throw err;
  }

  const ids = variants.length > 0 ? [...variants] : await listVariants(root);
  if (ids.length === 0) return fail(BUILD_EXIT.nothingToBuild, 'no variants to build: generated/ has no folder with a build.json (run `mlagen generate` first)');

  const results = await buildWithProgress(ids, { root, nvcc, jobs: opts.jobs, force: opts.force }, io.progressStream);

  const ok = results.every((r) => r.ok);
  if (opts.json) {
    io.stdout(`${JSON.stringify({ ok, exitCode: ok ? 0 : 1, nvcc, variants: results }, null, 2)}\n`);
  } else {
    io.stdout(summary(results, nvcc));
  }
  return ok ? BUILD_EXIT.ok : BUILD_EXIT.failed;
}

export function registerBuild(program: Command): Command {
  return program
    .command('build')
    .description('compile, link and resource-check generated variants with nvcc (sm_90a); cached by content')
    .argument('[variants...]', 'variant ids (folders of generated/); default: every folder with a build.json')
    .option('-j, --jobs <n>', `most nvcc processes at once (default: CPU count, here ${defaultConcurrency()})`, positiveInt)
    .option('--json', 'print the result as JSON on stdout (progress stays on stderr)')
    .option('--force', 'ignore the cache in .mlagen-cache/ and rebuild everything')
    .addHelpText(
      'after',
      `\nExit codes: ${BUILD_EXIT.ok} built, ${BUILD_EXIT.failed} a variant failed, ` +
        `${BUILD_EXIT.nothingToBuild} nothing to build, ${BUILD_EXIT.noNvcc} nvcc missing or older than 12.8.`,
    )
    .action(async (variants: string[], opts: BuildCommandOptions) => {
      process.exitCode = await runBuildCommand(variants, opts);
    });
}

function summary(results: readonly VariantBuildResult[], nvcc: NvccInfo): string {
  const lines: string[] = [];
  for (const r of results) {
    const how = r.cached ? 'cached' : `${r.seconds.toFixed(1)}s`;
    lines.push(`${r.ok ? 'ok    ' : 'FAILED'}  ${r.variantId}  (${how})`);
    for (const k of r.report?.kernels ?? []) {
      const stack = Math.max(k.stackFrameBytes, k.cumulativeStackBytes);
      lines.push(
        `          ${k.displayName}: ${k.registers ?? '?'} registers, ${k.sharedBytes} B static smem, ` +
          `${k.spillStoreBytes + k.spillLoadBytes} B spills, ${stack} B stack`,
      );
    }
    for (const w of r.warnings) lines.push(`  warning: ${w}`);
    for (const e of r.errors) lines.push(indent(`error: ${e}`));
  }
  const failed = results.filter((r) => !r.ok).length;
  lines.push(
    `${results.length - failed}/${results.length} variants built with nvcc ${nvcc.version}` +
      (failed > 0 ? `; ${failed} failed` : '') +
      '. Outputs in build/<variant>/.',
  );
  return `${lines.join('\n')}\n`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}
