// `mlagen check-schedule [variant]`: the device metadata kernel equals the TypeScript planner.
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { hasHopperGpu } from '../harness/gpu.ts';
import { harnessBinary, repoRoot, variantSchedule } from '../harness/paths.ts';
import { checkDeviceSchedule } from '../harness/scheduleCheck.ts';
import { CHECK_EXIT, defaultIo, harnessVerbExits, resolveVariants } from './check.ts';

export function registerCheckSchedule(program: Command): void {
  program
    .command('check-schedule')
    .description('prove the device split-KV metadata equal to the TypeScript planner on random batches')
    .argument('[variant]', 'variant id (default: the first in generated/manifest.ts)')
    .option('--batches <n>', 'random batches to compare', '200')
    .option('--seed <n>', 'seed of the batches', '20261122')
    .option('--json', 'print the result as JSON')
    .action(async (variant: string | undefined, opts: { batches: string; seed: string; json?: boolean }) => {
      const exits = harnessVerbExits('check-schedule', defaultIo, opts.json);
      if (!hasHopperGpu()) {
        process.exitCode = exits.noGpu('schedule check');
        return;
      }
      const root = repoRoot();
      const { ids, error } = await resolveVariants(root, variant ? [variant] : [], false, 'check-schedule');
      const id = ids[0];
      if (error || !id) {
        process.exitCode = exits.usage(error ?? 'no variant');
        return;
      }
      const harness = harnessBinary(root, id);
      if (!existsSync(harness)) {
        process.exitCode = exits.usage(`${harness} not built: run \`mlagen build\` first`);
        return;
      }
      const r = await checkDeviceSchedule(harness, {
        batches: Number(opts.batches),
        seed: Number(opts.seed),
        schedule: variantSchedule(root, id),
      });
      const ok = !r.error && r.mismatches.length === 0 && r.batches === Number(opts.batches);
      if (opts.json) console.log(JSON.stringify({ ok, variant: id, ...r }, null, 2));
      else {
        if (r.error) console.error(r.error);
        for (const m of r.mismatches.slice(0, 10)) console.error(`  batch ${m.batch} (size ${m.size}, s_q ${m.shape.sQ}, h_q ${m.shape.hQ}): ${m.what}`);
        console.log(`${r.batches - r.mismatches.length} of ${r.batches} batches equal to the planner (num_sm_parts ${JSON.stringify(r.numSmParts)})`);
      }
      process.exitCode = ok ? CHECK_EXIT.ok : CHECK_EXIT.failed;
    });
}
