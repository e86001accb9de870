// Parses the resource report `ptxas -v` writes to stderr, per function.
// The shape, as printed by nvcc 12.8-13.0 for sm_90a:
//   ptxas info    : (C7511) Potential Performance Loss: wgmma.mma_async instructions are serialized due to ... in the function '_Z3fooPf'
//   ptxas info    : 0 bytes gmem
//   ptxas info    : Compiling entry function '_Z3fooPf' for 'sm_90a'
//   ptxas info    : Function properties for _Z3fooPf
//       1112 bytes stack frame, 2132 bytes spill stores, 2156 bytes spill loads
//   ptxas info    : Used 32 registers, used 1 barriers, 4096 bytes smem, 1112 bytes cumulative stack size
// A "Function properties" block without a preceding "Compiling entry function" is a non-inlined
// device function. Older releases append "N bytes cmem[B]" to the "Used" and "gmem" lines.
// Coded diagnostics (C7511 ...) come before the function list and name their function in the text.

export interface FunctionResources {
  /** Mangled symbol, as ptxas prints it. */
  name: string;
  /** Best-effort readable name for messages, e.g. "mlagen::mla_decode". */
  displayName: string;
  /** A __global__ kernel; false for a non-inlined __device__ function. */
  isEntry: boolean;
  /** e.g. "sm_90a"; null for device functions, which ptxas does not label. */
  arch: string | null;
  /** null where ptxas does not say (device functions). */
  registers: number | null;
  barriers: number | null;
  /** Static shared memory; dynamic shared memory is set at launch and never appears here. */
  sharedBytes: number;
  stackFrameBytes: number;
  spillStoreBytes: number;
  spillLoadBytes: number;
  /** Stack of the kernel and everything it calls. */
  cumulativeStackBytes: number;
  /** Constant memory per bank, where ptxas reports it (not printed by nvcc 13). */
  cmemBytes: Record<string, number>;
  /** The object this came from; set when reports of several objects are merged. */
  object?: string;
}

export type DiagnosticKind = 'wgmma-serialized' | 'wgmma-wait-injected' | 'setmaxnreg-ignored' | 'other';

export interface PtxasDiagnostic {
  severity: 'info' | 'warning' | 'error';
  /** ptxas message code such as "C7511", when printed. */
  code: string | null;
  kind: DiagnosticKind;
  /** Mangled name of the function the message is about, when the message names one. */
  function: string | null;
  /** For serialization and ignored-setmaxnreg messages: the stated cause. */
  reason: string | null;
  /** The message without the "ptxas info    :" prefix. */
  message: string;
  object?: string;
}

export interface ResourceReport {
  gmemBytes: number;
  kernels: FunctionResources[];
  deviceFunctions: FunctionResources[];
  diagnostics: PtxasDiagnostic[];
}

const PTXAS_LINE = /^ptxas (info|warning|error|fatal)\s*:\s?(.*)$/;
const ENTRY = /^Compiling entry function '([^']+)' for '([^']+)'/;
const PROPERTIES = /^Function properties for (\S+)/;
const FRAME = /^(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads/;
const USED = /^Used (\d+) registers\b(.*)$/;
const GMEM = /^(\d+) bytes gmem\b(.*)$/;
const CODED = /^\((C\d+)\)\s*(.*)$/;
const NAMED_FUNCTION = /(?:in (?:the )?function|[Ee]ntry function) '([^']+)'/;
const SERIALIZED = /wgmma\.mma_async instructions are serialized due to (.+?)(?: in the function '[^']+')?\.?$/;
const MAXNREG_IGNORED = /'?setmaxnreg'? (?:is )?ignored[;,]?\s*(.*?)\.?$/;
const WAIT_INJECTED = /warpgroup\.wait is injected/;

export function parsePtxasOutput(stderr: string): ResourceReport {
  const report: ResourceReport = { gmemBytes: 0, kernels: [], deviceFunctions: [], diagnostics: [] };
  const byName = new Map<string, FunctionResources>();
  // The entry being compiled: "Function properties" and "Used" lines that follow belong to it.
  let currentEntry: { name: string; arch: string } | null = null;
  let pendingFrameFor: FunctionResources | null = null;

  const fn = (name: string, isEntry: boolean, arch: string | null): FunctionResources => {
    const key = `${name}@${arch ?? ''}`;
    let f = byName.get(key);
    if (!f) {
      f = {
        name, displayName: displayName(name), isEntry, arch, registers: null, barriers: null, sharedBytes: 0,
        stackFrameBytes: 0, spillStoreBytes: 0, spillLoadBytes: 0, cumulativeStackBytes: 0, cmemBytes: {},
      };
      byName.set(key, f);
      (isEntry ? report.kernels : report.deviceFunctions).push(f);
    }
    return f;
  };

  for (const rawLine of stderr.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (pendingFrameFor) {
      const frame = FRAME.exec(line);
      if (frame) {
        pendingFrameFor.stackFrameBytes = Number(frame[1]);
        pendingFrameFor.spillStoreBytes = Number(frame[2]);
        pendingFrameFor.spillLoadBytes = Number(frame[3]);
      }
      pendingFrameFor = null;
      if (frame) continue;
    }
    const m = PTXAS_LINE.exec(line);
    if (!m) continue;
    const level = m[1]!;
    const text = m[2]!.trim();

    const entry = ENTRY.exec(text);
    if (entry) {
      currentEntry = { name: entry[1]!, arch: entry[2]! };
      fn(currentEntry.name, true, currentEntry.arch);
      continue;
    }
    const props = PROPERTIES.exec(text);
    if (props) {
      const name = props[1]!;
      const isEntry = currentEntry?.name === name;
      pendingFrameFor = fn(name, isEntry, isEntry ? currentEntry!.arch : null);
      if (!isEntry) currentEntry = null;
      continue;
    }
    const used = USED.exec(text);
    if (used && currentEntry) {
      const f = fn(currentEntry.name, true, currentEntry.arch);
      f.registers = Number(used[1]);
      applyUsageItems(f, used[2]!);
      continue;
    }
    const gmem = GMEM.exec(text);
    if (gmem) {
      report.gmemBytes += Number(gmem[1]);
      continue;
    }
    if (text.startsWith('Compile time') || text.startsWith('Overriding maximum register limit')) continue;
    const diagnostic = toDiagnostic(level, text);
    if (diagnostic) report.diagnostics.push(diagnostic);
  }
  return report;
}

/** The comma-separated tail of a "Used N registers" line. */
function applyUsageItems(f: FunctionResources, tail: string): void {
  for (const item of tail.split(',').map((s) => s.trim())) {
    let m: RegExpExecArray | null;
    if ((m = /^used (\d+) barriers$/.exec(item))) f.barriers = Number(m[1]);
    else if ((m = /^(\d+) bytes smem$/.exec(item))) f.sharedBytes = Number(m[1]);
    else if ((m = /^(\d+) bytes cumulative stack size$/.exec(item))) f.cumulativeStackBytes = Number(m[1]);
    else if ((m = /^(\d+) bytes cmem\[(\d+)\]$/.exec(item))) f.cmemBytes[m[2]!] = Number(m[1]);
  }
}

/** Coded infos ("Potential Performance Loss" and the like), warnings and errors; plain infos are noise. */
function toDiagnostic(level: string, text: string): PtxasDiagnostic | null {
  const coded = CODED.exec(text);
  const severity = level === 'info' ? 'info' : level === 'warning' ? 'warning' : 'error';
  if (!coded && severity === 'info') return null;
  const message = text;
  const body = coded ? coded[2]! : text;
  const named = NAMED_FUNCTION.exec(body);
  let kind: DiagnosticKind = 'other';
  let reason: string | null = null;
  let m: RegExpExecArray | null;
  if ((m = SERIALIZED.exec(body))) {
    kind = 'wgmma-serialized';
    reason = m[1]!;
  } else if ((m = MAXNREG_IGNORED.exec(body))) {
    kind = 'setmaxnreg-ignored';
    reason = m[1] || null;
  } else if (WAIT_INJECTED.test(body)) {
    kind = 'wgmma-wait-injected';
  }
  return { severity, code: coded ? coded[1]! : null, kind, function: named ? named[1]! : null, reason, message };
}

/**
 * A readable name for messages: "_Z9with_smemPf" -> "with_smem", "_ZN6mlagen6decodeILi64EEEvPf" -> "mlagen::decode".
 * Only the name part of the Itanium mangling is decoded; anything else falls back to the symbol itself.
 */
export function displayName(mangled: string): string {
  const symbol = mangled.replace(/\$\d+$/, '');
  if (!symbol.startsWith('_Z')) return symbol;
  let i = symbol.startsWith('_ZN') ? 3 : 2;
  const parts: string[] = [];
  for (;;) {
    const m = /^(\d+)/.exec(symbol.slice(i));
    if (!m) break;
    const len = Number(m[1]);
    i += m[1]!.length;
    parts.push(symbol.slice(i, i + len));
    i += len;
    if (!symbol.startsWith('_ZN')) break;
  }
  return parts.length > 0 && parts.every(Boolean) ? parts.join('::') : symbol;
}
