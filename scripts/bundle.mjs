#!/usr/bin/env node
// Bundles the CLI into one file (dist/mlagen.mjs) for machines that have Node but no node_modules,
// such as the GPU machine: `node dist/mlagen.mjs check`. Every dependency is inlined.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
await build({
  entryPoints: [`${root}scripts/bundle-entry.ts`],
  outfile: `${root}dist/mlagen.mjs`,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  // CommonJS dependencies (handlebars, typescript inside ts-morph) need require and __filename in ESM.
  banner: {
    js: [
      "import { createRequire as __mlagenRequire } from 'node:module';",
      "import { fileURLToPath as __mlagenPath } from 'node:url';",
      'const require = __mlagenRequire(import.meta.url);',
      'const __filename = __mlagenPath(import.meta.url);',
      "const __dirname = __mlagenPath(new URL('.', import.meta.url));",
    ].join(' '),
  },
});
console.log('wrote dist/mlagen.mjs');
