// Turns a variant's ptxas report into pass/fail: spills, local memory and serialized wgmma fail the
// build unless the variant's build.json allows them, because each one quietly costs the kernel its speed.
import type { FunctionResources, PtxasDiagnostic, ResourceReport } from './ptxas.ts';
import { displayName } from './ptxas.ts';

export interface ResourcePolicy {
  allowSpills: boolean;
  allowLocalMemory: boolean;
  /** ptxas made every wgmma wait for the one before (C75xx "wgmma.mma_async instructions are serialized"). */
  allowSerializedWgmma?: boolean;
}

export interface ResourceViolation {
  function: string;
  kind: 'spills' | 'local-memory' | 'wgmma-serialized';
  /** The ptxas diagnostic the violation was raised from (then it is not listed again as a warning). */
  diagnostic?: PtxasDiagnostic;
  message: string;
}

/** Concatenates the reports of a variant's objects, tagging each entry with its object. */
export function mergeReports(parts: readonly { object: string; report: ResourceReport }[]): ResourceReport {
  const merged: ResourceReport = { gmemBytes: 0, kernels: [], deviceFunctions: [], diagnostics: [] };
  for (const { object, report } of parts) {
    merged.gmemBytes += report.gmemBytes;
    merged.kernels.push(...report.kernels.map((k) => ({ ...k, object })));
    merged.deviceFunctions.push(...report.deviceFunctions.map((f) => ({ ...f, object })));
    merged.diagnostics.push(...report.diagnostics.map((d) => ({ ...d, object })));
  }
  return merged;
}

/**
 * Spill bytes live in the stack frame, so a spilling function is judged by allowSpills alone;
 * a stack frame without spills (local arrays, ABI calls) is judged by allowLocalMemory.
 * `specFile` is named in the message so the reader knows where the switch is.
 */
export function checkResources(report: ResourceReport, policy: ResourcePolicy, specFile: string): ResourceViolation[] {
  const violations: ResourceViolation[] = [];
  for (const f of [...report.kernels, ...report.deviceFunctions]) {
    const what = describe(f);
    const spills = f.spillStoreBytes > 0 || f.spillLoadBytes > 0;
    if (spills && !policy.allowSpills) {
      violations.push({
        function: f.name,
        kind: 'spills',
        message:
          `${what} spills registers: ${f.spillStoreBytes} B spill stores, ${f.spillLoadBytes} B spill loads, ` +
          `${f.stackFrameBytes} B stack frame` +
          (f.registers !== null ? `, ${f.registers} registers` : '') +
          `. Set "allowSpills": true in ${specFile} to accept this.`,
      });
    }
    const stack = Math.max(f.stackFrameBytes, f.cumulativeStackBytes);
    if (!spills && stack > 0 && !policy.allowLocalMemory) {
      violations.push({
        function: f.name,
        kind: 'local-memory',
        message:
          `${what} uses local memory: ${f.stackFrameBytes} B stack frame, ${f.cumulativeStackBytes} B cumulative stack ` +
          `(no spills: a local array or a non-inlined call). Set "allowLocalMemory": true in ${specFile} to accept this.`,
      });
    }
  }
  if (!policy.allowSerializedWgmma) {
    for (const d of report.diagnostics.filter((x) => x.kind === 'wgmma-serialized')) {
      const where = d.object ? ` in ${d.object}.o` : '';
      const fn = d.function ? displayName(d.function) : 'a function';
      violations.push({
        function: d.function ?? '',
        kind: 'wgmma-serialized',
        diagnostic: d,
        message:
          `${fn}${where}: ptxas serialized its wgmma.mma_async instructions (${d.code ?? 'no code'}: ${d.reason ?? d.message}); ` +
          `every product then waits for the one before. Set "allowSerializedWgmma": true in ${specFile} to accept this.`,
      });
    }
  }
  return violations;
}

/**
 * ptxas's coded notes and warnings, one line each. Reported, not fatal: several (wgmma serialized,
 * setmaxnreg ignored) mean a Hopper feature silently did not take effect, which timing will show.
 */
export function ptxasWarnings(report: ResourceReport): string[] {
  return report.diagnostics.map(describeDiagnostic);
}

function describe(f: FunctionResources): string {
  const kind = f.isEntry ? 'kernel' : 'device function';
  const where = f.object ? ` in ${f.object}.o` : '';
  const mangled = f.displayName !== f.name ? ` (${f.name})` : '';
  return `${kind} ${f.displayName}${mangled}${where}`;
}

function describeDiagnostic(d: PtxasDiagnostic): string {
  const where = d.object ? `${d.object}.o: ` : '';
  return `${where}ptxas ${d.severity}: ${d.message}`;
}
