// The shared-memory plan: every buffer with its offset, size and alignment, checked against sm_90.
import type { Checker } from '../errors.ts';
import { SM90 } from '../sm90/device.ts';

export interface SmemBufferRequest {
  name: string;
  bytes: number;
  alignment: number;
  /** What it holds, for the explain table and the generated comments. */
  holds: string;
}

export interface SmemBuffer extends SmemBufferRequest {
  offset: number;
}

export interface SmemPlan {
  buffers: SmemBuffer[];
  /** Bytes to request at launch: the end of the last buffer plus slack to align the dynamic base. */
  totalBytes: number;
  limit: number;
}

/** The dynamic smem base is only 16-byte aligned; we align it to the largest alignment on the device. */
export const baseAlignment = (reqs: readonly SmemBufferRequest[]) => Math.max(16, ...reqs.map((r) => r.alignment));

export function planSmem(reqs: readonly SmemBufferRequest[], c: Checker): SmemPlan {
  let offset = 0;
  const buffers: SmemBuffer[] = [];
  for (const r of reqs) {
    if (!c.require(r.alignment > 0 && (r.alignment & (r.alignment - 1)) === 0, `${r.name}.alignment`, `${r.alignment} is not a power of two`))
      continue;
    offset = Math.ceil(offset / r.alignment) * r.alignment;
    buffers.push({ ...r, offset });
    offset += r.bytes;
  }
  const slack = baseAlignment(reqs) - 16;
  const totalBytes = offset + slack;
  c.require(
    totalBytes <= SM90.maxSmemPerBlock,
    'total',
    `${totalBytes} B > ${SM90.maxSmemPerBlock} B available (${buffers.map((b) => `${b.name} ${b.bytes}`).join(' + ')}${slack ? ` + ${slack} alignment slack` : ''})`,
  );
  return { buffers, totalBytes, limit: SM90.maxSmemPerBlock };
}
