// `mlagen emit torch <dir> [--variants ids]`: write a pip-installable PyTorch package (FlashMLA's API) built from
// the generated variants. See scripts/torch/emit.ts and docs/torch.md.
import { processIo, type CommandIo } from '../io.ts';
import { Command } from 'commander';
import path from 'node:path';

import { findRepoRoot } from '../../dsl/render/repoRoot.ts';
import { TorchEmitError, emitTorchPackage } from '../torch/emit.ts';

export interface EmitTorchOptions {
  variants?: string;
  force?: boolean;
  json?: boolean;
  /** Repository root; by default found from the working directory. */
  root?: string;
}

export type EmitIo = CommandIo;

/** Splits `--variants a,b c` into ids. */
export function parseVariantList(text: string | undefined): string[] {
  return (text ?? '')
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Runs `mlagen emit torch` and returns the exit code: 0 written, 1 refused (the message says why). */
export async function runEmitTorch(dir: string, opts: EmitTorchOptions, io: EmitIo = processIo): Promise<number> {
  const root = opts.root ?? findRepoRoot();
  const target = path.resolve(dir);
  try {
    const res = await emitTorchPackage(target, { root, variants: parseVariantList(opts.variants), force: opts.force });
    if (opts.json) {
      io.stdout(`${JSON.stringify({ ok: true, ...res }, null, 2)}\n`);
    } else {
      io.stdout(
        `wrote ${target}: mlagen_torch over ${res.variants.length} variant(s) (${res.variants.join(', ')}); ` +
          `${res.written.length} files written, ${res.unchanged.length} unchanged, ${res.removed.length} removed\n` +
          `build: cd ${path.relative(process.cwd(), target) || '.'} && pip install --no-build-isolation .\n`,
      );
    }
    return 0;
  } catch (e) {
    if (!(e instanceof TorchEmitError)) throw e;
    io.stderr(`mlagen emit torch: ${e.message}\n`);
    if (opts.json) io.stdout(`${JSON.stringify({ ok: false, error: e.message }, null, 2)}\n`);
    return 1;
  }
}

export function registerEmit(program: Command): void {
  const emit = program.command('emit').description('write packages that wrap the generated kernels for other frameworks');
  emit
    .command('torch')
    .description("write a pip-installable PyTorch package with FlashMLA's API (get_mla_metadata, flash_mla_with_kvcache)")
    .argument('<dir>', 'folder to write the package into (created; an earlier emit there is updated)')
    .option('--variants <ids>', 'variant ids, comma-separated (default: every manifest variant); the narrowest rows range is tried first, ties in this order')
    .option('--force', 'write into a non-empty folder that holds no earlier emit')
    .option('--json', 'machine-readable result')
    .action(async (dir: string, opts: EmitTorchOptions) => {
      const code = await runEmitTorch(dir, opts);
      if (code !== 0) process.exitCode = code;
    });
}
