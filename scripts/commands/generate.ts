// mlagen generate [--check]: render the catalogue into generated/, or prove generated/ is fresh.
import type { Command } from 'commander';
import { dslErrorMessages } from '../../dsl/errors.ts';
import { checkGenerated, renderCatalogue, writeGenerated } from '../../dsl/render/generate.ts';

export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description('render every catalogue variant into generated/<variant>/ and generated/manifest.ts')
    .option('--check', 'write nothing; exit 1 if generated/ differs from what the DSL renders today')
    .option('--json', 'machine-readable result')
    .action((opts: { check?: boolean; json?: boolean }) => {
      const tree = renderCatalogue();
      const stale = opts.check ? checkGenerated(tree) : writeGenerated(tree);
      const dirty = stale.changed.length + stale.missing.length + stale.extra.length > 0;
      if (opts.json) {
        console.log(JSON.stringify({ check: !!opts.check, variants: tree.plans.map((p) => p.variantId), ...stale, fresh: !dirty }, null, 2));
      } else if (opts.check) {
        if (!dirty) console.log(`generated/ is fresh (${tree.plans.length} variants, ${tree.files.size} files)`);
        else {
          console.error('generated/ is stale; run `npx mlagen generate`:');
          for (const [label, list] of Object.entries(stale)) for (const f of list as string[]) console.error(`  ${label}: ${f}`);
        }
      } else {
        const wrote = stale.changed.length + stale.missing.length;
        console.log(`generated ${tree.plans.length} variants: ${wrote} files written, ${stale.extra.length} removed, ${tree.files.size - wrote} unchanged`);
      }
      if (opts.check && dirty) process.exitCode = 1;
    });
}

/** Prints a DSL validation failure the way users should see it: one line per problem. */
export function reportDslError(e: unknown): boolean {
  const messages = dslErrorMessages(e);
  for (const m of messages ?? []) console.error(`error: ${m}`);
  return messages !== undefined;
}
