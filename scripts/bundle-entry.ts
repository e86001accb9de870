// Entry of the one-file bundle: the same CLI as scripts/bin/mlagen.mjs, without tsx.
import { main } from './cli.ts';

process.exitCode = await main(process.argv);
