#!/usr/bin/env node
// Entry shim: runs the TypeScript CLI through tsx's loader, so no build step stands between an edit and a run.
// The device machine runs the one-file bundle (dist/mlagen.mjs) instead; see scripts/bundle.mjs.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli.ts');
process.exitCode = await main(process.argv);
