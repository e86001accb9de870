// Builds generated variants: compiles each object (from the cache when nothing it depends on
// changed), links libraries and executables, and checks ptxas's resource report.
// Every variant's jobs share one bounded pool, so a catalogue build keeps all cores busy.
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { BuildCache, linkCacheKey, objectCacheKey } from './cache.ts';
import { runJobs, type Job, type JobEvent, type JobOutcome } from './jobs.ts';
import { compileArgs, compileFlags, linkArgs, linkFlags, locateNvcc, runNvcc, type NvccInfo } from './nvcc.ts';
import { buildLayout, findRepoRoot, type BuildLayout } from './paths.ts';
import { createProgress, type Progress } from './progress.ts';
import { parsePtxasOutput, type ResourceReport } from './ptxas.ts';
import { checkResources, mergeReports, ptxasWarnings, type ResourceViolation } from './resourceCheck.ts';
import { BUILD_SPEC_FILE, readBuildSpec, type BuildSpec, type LinkSpec } from './spec.ts';

export interface BuildOptions {
  /** Repository root; by default the nearest mlagen checkout above the working directory. */
  root?: string;
  /** Most nvcc processes at once; by default the number of CPUs. */
  jobs?: number;
  /** Ignore cached outputs (fresh ones are still stored). */
  force?: boolean;
  /** An nvcc found earlier; by default located here (throws NvccError when missing or too old). */
  nvcc?: NvccInfo;
  /** Progress events, e.g. from createProgress(). */
  onEvent?: (event: JobEvent) => void;
  /** Called once the number of jobs is known, before any runs. */
  onPlan?: (jobCount: number) => void;
  /** Read variant folders from here instead of <root>/generated (the tuner renders into build/tune/). */
  generatedDir?: string;
  /** Write outputs to <buildDir>/<variantId>/ instead of <root>/build/<variantId>/. */
  buildDir?: string;
}

export interface StepResult {
  /** "<variantId>/<output file>", as shown in progress. */
  id: string;
  kind: 'compile' | 'link';
  output: string;
  status: JobOutcome<unknown>['status'];
  cached: boolean;
  seconds: number;
}

/** What build/<variantId>/report.json holds. */
export interface VariantResourceReport extends ResourceReport {
  variantId: string;
  nvccVersion: string;
  allowSpills: boolean;
  allowLocalMemory: boolean;
  allowSerializedWgmma: boolean;
  violations: ResourceViolation[];
}

export interface VariantBuildResult {
  variantId: string;
  ok: boolean;
  /** Every step came from the cache: nvcc did not run for this variant. */
  cached: boolean;
  /** Wall time from this variant's first step starting to its last step ending. */
  seconds: number;
  /** null when no object with ptxasReport compiled. */
  report: VariantResourceReport | null;
  /** ptxas's coded notes and warnings (wgmma serialized, setmaxnreg ignored, ...); not fatal. */
  warnings: string[];
  outputs: {
    dir: string;
    /** Object name -> path of the .o file. */
    objects: Record<string, string>;
    /** Link name -> path of the .so or executable. */
    links: Record<string, string>;
    report: string;
  };
  /** Why the variant failed: nvcc errors, resource violations, a bad build.json. */
  errors: string[];
  steps: StepResult[];
}

interface StepValue {
  cached: boolean;
  key: string;
  /** nvcc's stderr, which holds the ptxas -v report. */
  log: string;
  started: number;
  ended: number;
}

interface VariantPlan {
  variantId: string;
  spec: BuildSpec;
  specFile: string;
  outDir: string;
  objectPaths: Record<string, string>;
  linkPaths: Record<string, string>;
  stepIds: { id: string; kind: 'compile' | 'link'; output: string; object?: string }[];
}

/** buildVariants with a progress display on `stream` (stderr by default): a status line on a TTY, plain lines elsewhere. */
export async function buildWithProgress(
  ids: readonly string[],
  opts: Omit<BuildOptions, 'onPlan' | 'onEvent'>,
  stream?: NodeJS.WriteStream,
): Promise<VariantBuildResult[]> {
  let progress: Progress | undefined;
  return buildVariants(ids, {
    ...opts,
    onPlan: (count) => (progress = createProgress(count, { stream })),
    onEvent: (e) => progress?.onEvent(e),
  }).finally(() => progress?.finish());
}

/** Every folder under generated/ that has a build.json, sorted. */
export async function listVariants(root: string = findRepoRoot()): Promise<string[]> {
  return listVariantsIn(buildLayout(root).generated);
}

async function listVariantsIn(generated: string): Promise<string[]> {
  if (!existsSync(generated)) return [];
  const entries = await readdir(generated, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory() && existsSync(path.join(generated, e.name, BUILD_SPEC_FILE)))
    .map((e) => e.name)
    .sort();
}

export async function buildVariants(ids: readonly string[], opts: BuildOptions = {}): Promise<VariantBuildResult[]> {
  const layout = withDirs(buildLayout(opts.root ?? findRepoRoot()), opts);
  const nvcc = opts.nvcc ?? (await locateNvcc());
  const cache = new BuildCache(layout.cache);

  const planned: VariantPlan[] = [];
  const unplanned: VariantBuildResult[] = [];
  for (const variantId of ids) {
    try {
      planned.push(await planVariant(layout, variantId));
    } catch (err) {
      unplanned.push(failedBeforeBuild(layout, variantId, (err as Error).message));
    }
  }

  // A report left from an earlier build must not outlive a build that fails to replace it.
  await Promise.all(planned.map((p) => rm(path.join(p.outDir, 'report.json'), { force: true })));
  const jobs = planned.flatMap((p) => variantJobs(p, layout, nvcc, cache, opts.force ?? false));
  opts.onPlan?.(jobs.length);
  const outcomes = await runJobs(jobs, {
    concurrency: opts.jobs,
    onEvent: opts.onEvent,
    noteFor: (v) => (v.cached ? 'cached' : undefined),
  });

  const built = await Promise.all(planned.map((p) => collectResult(p, outcomes, nvcc)));
  const byId = new Map([...built, ...unplanned].map((r) => [r.variantId, r]));
  return ids.map((id) => byId.get(id)!);
}

function withDirs(layout: BuildLayout, opts: Pick<BuildOptions, 'generatedDir' | 'buildDir'>): BuildLayout {
  return {
    ...layout,
    generated: opts.generatedDir ? path.resolve(opts.generatedDir) : layout.generated,
    build: opts.buildDir ? path.resolve(opts.buildDir) : layout.build,
  };
}

async function planVariant(layout: BuildLayout, variantId: string): Promise<VariantPlan> {
  const variantDir = path.join(layout.generated, variantId);
  const specFile = path.join(variantDir, BUILD_SPEC_FILE);
  if (!existsSync(specFile)) {
    const known = await listVariantsIn(layout.generated);
    throw new Error(
      `${path.relative(layout.root, specFile)} not found; run \`mlagen generate\` first. ` +
        `Variants with a build.json: ${known.length > 0 ? known.join(', ') : 'none'}.`,
    );
  }
  const spec = await readBuildSpec(variantDir);
  if (spec.variantId !== variantId) {
    throw new Error(`${path.relative(layout.root, specFile)} says variantId "${spec.variantId}" but lives in folder "${variantId}"`);
  }
  for (const o of spec.objects) {
    if (!existsSync(path.join(variantDir, o.source))) {
      throw new Error(`${path.relative(layout.root, specFile)}: source "${o.source}" of object "${o.name}" does not exist in ${path.relative(layout.root, variantDir)}/`);
    }
  }
  for (const dir of spec.includeDirs) {
    if (!existsSync(path.resolve(layout.root, dir))) {
      throw new Error(`${path.relative(layout.root, specFile)}: include dir "${dir}" does not exist under ${layout.root}`);
    }
  }
  const outDir = path.join(layout.build, variantId);
  const objectPaths = Object.fromEntries(spec.objects.map((o) => [o.name, path.join(outDir, `${o.name}.o`)]));
  const linkPaths = Object.fromEntries(spec.links.map((l) => [l.name, path.join(outDir, linkFileName(l))]));
  const stepIds = [
    ...spec.objects.map((o) => ({ id: `${variantId}/${o.name}.o`, kind: 'compile' as const, output: objectPaths[o.name]!, object: o.name })),
    ...spec.links.map((l) => ({ id: `${variantId}/${linkFileName(l)}`, kind: 'link' as const, output: linkPaths[l.name]! })),
  ];
  return { variantId, spec, specFile: path.relative(layout.root, specFile), outDir, objectPaths, linkPaths, stepIds };
}

function linkFileName(l: LinkSpec): string {
  return l.kind === 'shared' && !l.name.endsWith('.so') ? `${l.name}.so` : l.name;
}

function variantJobs(plan: VariantPlan, layout: BuildLayout, nvcc: NvccInfo, cache: BuildCache, force: boolean): Job<StepValue>[] {
  const { spec, variantId, outDir } = plan;
  const variantDir = path.join(layout.generated, variantId);
  const includeDirs = spec.includeDirs.map((d) => path.resolve(layout.root, d));
  const flags = compileFlags(spec.nvccFlags, includeDirs);
  // Links read their objects' keys from here; the runner orders links after their objects.
  const objectKeys = new Map<string, string>();
  const objectJobId = (name: string) => `${variantId}/${name}.o`;

  const compileJobs = spec.objects.map((o): Job<StepValue> => ({
    id: objectJobId(o.name),
    run: async () => {
      const started = performance.now();
      const source = path.join(variantDir, o.source);
      const output = plan.objectPaths[o.name]!;
      const logFile = `${output.slice(0, -2)}.ptxas.log`;
      await mkdir(outDir, { recursive: true });
      const { key } = await objectCacheKey({ source, includeDirs, nvccVersion: nvcc.versionOutput, flags });
      objectKeys.set(o.name, key);
      const files = { 'object.o': output, 'ptxas.log': logFile };
      if (!force && (await cache.restore(key, files))) {
        return { cached: true, key, log: await readFile(logFile, 'utf8'), started, ended: performance.now() };
      }
      await rm(output, { force: true });
      const run = await runNvcc(nvcc, compileArgs(flags, source, output), layout.root);
      await writeFile(logFile, run.stderr);
      if (!run.ok) throw new Error(nvccFailure(`compiling ${path.relative(layout.root, source)}`, run));
      await cache.store(key, files);
      return { cached: false, key, log: run.stderr, started, ended: performance.now() };
    },
  }));

  const linkJobs = spec.links.map((l): Job<StepValue> => ({
    id: `${variantId}/${linkFileName(l)}`,
    deps: l.objects.map(objectJobId),
    run: async () => {
      const started = performance.now();
      const output = plan.linkPaths[l.name]!;
      const lflags = linkFlags(l.kind);
      const key = linkCacheKey({ objectKeys: l.objects.map((n) => objectKeys.get(n)!), flags: lflags, libs: l.libs, nvccVersion: nvcc.versionOutput });
      if (!force && (await cache.restore(key, { output }))) return { cached: true, key, log: '', started, ended: performance.now() };
      await rm(output, { force: true });
      const inputs = l.objects.map((n) => plan.objectPaths[n]!);
      const run = await runNvcc(nvcc, linkArgs(lflags, inputs, l.libs, output), layout.root);
      if (!run.ok) throw new Error(nvccFailure(`linking ${path.relative(layout.root, output)}`, run));
      await cache.store(key, { output });
      return { cached: false, key, log: run.stderr, started, ended: performance.now() };
    },
  }));

  return [...compileJobs, ...linkJobs];
}

async function collectResult(plan: VariantPlan, outcomes: Map<string, JobOutcome<StepValue>>, nvcc: NvccInfo): Promise<VariantBuildResult> {
  const errors: string[] = [];
  const steps: StepResult[] = [];
  const reportParts: { object: string; report: ResourceReport }[] = [];
  let first = Infinity;
  let last = -Infinity;
  let allReported = true;

  for (const step of plan.stepIds) {
    const outcome = outcomes.get(step.id)!;
    const value = outcome.status === 'done' ? outcome.value : null;
    steps.push({
      id: step.id, kind: step.kind, output: step.output, status: outcome.status,
      cached: value?.cached ?? false, seconds: outcome.status === 'skipped' ? 0 : outcome.seconds,
    });
    if (value) {
      first = Math.min(first, value.started);
      last = Math.max(last, value.ended);
    }
    if (outcome.status === 'failed') errors.push(`${step.id}: ${outcome.error.message}`);
    const wantsReport = step.object !== undefined && plan.spec.objects.find((o) => o.name === step.object)!.ptxasReport;
    if (wantsReport && value) reportParts.push({ object: step.object!, report: parsePtxasOutput(value.log) });
    if (wantsReport && !value) allReported = false;
  }

  const reportFile = path.join(plan.outDir, 'report.json');
  let report: VariantResourceReport | null = null;
  let warnings: string[] = [];
  if (allReported && reportParts.length > 0) {
    const merged = mergeReports(reportParts);
    const policy = {
      allowSpills: plan.spec.allowSpills,
      allowLocalMemory: plan.spec.allowLocalMemory,
      allowSerializedWgmma: plan.spec.allowSerializedWgmma,
    };
    const violations = checkResources(merged, policy, plan.specFile);
    errors.push(...violations.map((v) => v.message));
    const raised = new Set(violations.map((v) => v.diagnostic));
    warnings = ptxasWarnings({ ...merged, diagnostics: merged.diagnostics.filter((d) => !raised.has(d)) });
    report = { variantId: plan.variantId, nvccVersion: nvcc.version, ...policy, violations, ...merged };
    await writeFile(reportFile, `${JSON.stringify(report, null, 2)}\n`);
  }

  return {
    variantId: plan.variantId,
    ok: errors.length === 0 && steps.every((s) => s.status === 'done'),
    cached: steps.length > 0 && steps.every((s) => s.cached),
    seconds: Number.isFinite(first) ? (last - first) / 1000 : 0,
    report,
    warnings,
    outputs: { dir: plan.outDir, objects: plan.objectPaths, links: plan.linkPaths, report: reportFile },
    errors,
    steps,
  };
}

function failedBeforeBuild(layout: BuildLayout, variantId: string, message: string): VariantBuildResult {
  const dir = path.join(layout.build, variantId);
  return {
    variantId, ok: false, cached: false, seconds: 0, report: null, warnings: [],
    outputs: { dir, objects: {}, links: {}, report: path.join(dir, 'report.json') },
    errors: [message], steps: [],
  };
}

/** nvcc's own words (the tail, where the errors are) and the command to reproduce it. */
function nvccFailure(what: string, run: { exitCode: number | undefined; stderr: string; stdout: string; commandLine: string }): string {
  const output = `${run.stdout}${run.stderr}`.trimEnd().split('\n');
  const tail = output.length > 60 ? ['…', ...output.slice(-60)] : output;
  return `nvcc failed (exit ${run.exitCode ?? '?'}) ${what}:\n${tail.join('\n')}\ncommand: ${run.commandLine}`;
}
