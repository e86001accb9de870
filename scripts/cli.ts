// The mlagen CLI: one verb per module in scripts/commands/.
import { Command, CommanderError } from 'commander';
import { registerAll } from './commands/all.ts';
import { registerBench } from './commands/bench.ts';
import { registerBuild } from './commands/build.ts';
import { registerCheck } from './commands/check.ts';
import { registerCheckSchedule } from './commands/checkSchedule.ts';
import { registerEmit } from './commands/emit.ts';
import { registerExplain } from './commands/explain.ts';
import { registerGenerate } from './commands/generate.ts';
import { registerReport } from './commands/report.ts';
import { registerTune } from './commands/tune.ts';

export function makeProgram(): Command {
  const program = new Command('mlagen')
    .description('generate, build, validate, time and tune MLA decode kernels for Hopper (sm_90a)')
    .showHelpAfterError()
    .exitOverride();
  registerExplain(program);
  registerGenerate(program);
  registerBuild(program);
  registerCheck(program);
  registerCheckSchedule(program);
  registerBench(program);
  registerEmit(program);
  registerTune(program);
  registerReport(program);
  registerAll(program);
  return program;
}

/** Runs the CLI and returns the exit code (actions set process.exitCode for failures). */
export async function main(argv: string[]): Promise<number> {
  try {
    await makeProgram().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    console.error(`error: ${(e as Error).message}`);
    return 1;
  }
}
