// Is there a Hopper GPU here? Asked once per process, of nvidia-smi.
import { execaSync } from 'execa';

export interface GpuProbe {
  hopper: boolean;
  /** Why not, in a sentence (empty when hopper). */
  reason: string;
  /** compute_cap of each GPU nvidia-smi listed. */
  computeCaps: string[];
}

let cached: GpuProbe | undefined;

/** Reads `nvidia-smi --query-gpu=compute_cap --format=csv,noheader`: Hopper only if every GPU is 9.0. */
export function parseComputeCaps(stdout: string): GpuProbe {
  const computeCaps = stdout
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter(Boolean);
  if (computeCaps.length === 0) return { hopper: false, reason: 'nvidia-smi lists no GPU', computeCaps };
  const other = computeCaps.filter((c) => c !== '9.0');
  if (other.length > 0)
    return { hopper: false, reason: `GPU compute capability ${computeCaps.join(', ')} (Hopper is 9.0)`, computeCaps };
  return { hopper: true, reason: '', computeCaps };
}

export function probeGpu(): GpuProbe {
  if (cached) return cached;
  if (process.env.MLAGEN_NO_GPU === '1') {
    cached = { hopper: false, reason: 'MLAGEN_NO_GPU=1', computeCaps: [] };
    return cached;
  }
  try {
    const r = execaSync('nvidia-smi', ['--query-gpu=compute_cap', '--format=csv,noheader'], {
      reject: false,
      timeout: 20_000,
    });
    if ((r as { code?: string }).code === 'ENOENT') {
      cached = { hopper: false, reason: 'nvidia-smi is not installed (no NVIDIA driver)', computeCaps: [] };
    } else if (r.failed || r.exitCode !== 0) {
      const why = String(r.stderr || r.stdout || r.shortMessage || '').trim().split('\n')[0] ?? '';
      cached = { hopper: false, reason: `nvidia-smi failed${why ? `: ${why}` : ''}`, computeCaps: [] };
    } else {
      cached = parseComputeCaps(String(r.stdout));
    }
  } catch (e) {
    cached = { hopper: false, reason: `nvidia-smi could not run: ${(e as Error).message}`, computeCaps: [] };
  }
  return cached;
}

/** True only if nvidia-smi reports compute capability 9.0 (cached). */
export function hasHopperGpu(): boolean {
  return probeGpu().hopper;
}

/** A line to print when GPU work is skipped. */
export function noGpuReason(): string {
  const p = probeGpu();
  return p.hopper ? '' : `no Hopper GPU (compute capability 9.0) is present: ${p.reason}`;
}
