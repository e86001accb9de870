// `mlagen all` (npm start): the main job. Generates the catalogue, builds and resource-checks every
// variant, then validates and times them when a Hopper GPU is present, and says plainly when not.
import type { Command } from 'commander';
import { renderCatalogue, writeGenerated } from '../../dsl/render/generate.ts';
import { hasHopperGpu, noGpuReason } from '../harness/gpu.ts';
import { runBenchCommand } from './bench.ts';
import { runBuildCommand } from './build.ts';
import { runCheckCommand } from './check.ts';

export function registerAll(program: Command): void {
  program
    .command('all')
    .description('generate, build and resource-check the catalogue; on a Hopper GPU also check and bench it')
    .option('--cases <set>', 'check case set when a GPU is present (matrix|edge|all)', 'all')
    .action(async (opts: { cases: string }) => {
      const tree = renderCatalogue();
      const stale = writeGenerated(tree);
      console.log(`generate: ${tree.plans.length} variants, ${stale.changed.length + stale.missing.length} files written`);
      const built = await runBuildCommand([], {});
      if (built !== 0) {
        process.exitCode = built;
        return;
      }
      if (!hasHopperGpu()) {
        console.log(`\nValidation (mlagen check) and timing (mlagen bench) were skipped: ${noGpuReason()}.`);
        console.log('Everything that runs without a GPU passed: generation, nvcc build for sm_90a, resource checks.');
        return;
      }
      const checked = await runCheckCommand([], { allVariants: true, cases: opts.cases as never });
      if (checked !== 0) {
        process.exitCode = checked;
        return;
      }
      process.exitCode = await runBenchCommand(undefined, { cases: 'matrix' as never });
    });
}
