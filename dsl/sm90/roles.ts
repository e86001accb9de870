// Warpgroup roles and their register budgets (setmaxnreg). Each role is one branch of a single
// if/else on the warpgroup index, as setmaxnreg requires.
import type { Checker } from '../errors.ts';
import { SM90 } from './device.ts';

export interface WarpgroupRole {
  name: 'producer' | 'consumer';
  warpgroups: number;
  /** setmaxnreg target: multiple of 8 in 24..256. */
  maxRegisters: number;
  does: string;
}

export const roleThreads = (roles: readonly WarpgroupRole[]) =>
  roles.reduce((n, r) => n + r.warpgroups * SM90.warpgroupThreads, 0);

/** The register cap at kernel entry with __launch_bounds__(threads, 1): what the block may hold per thread. */
export const entryRegisterCap = (threads: number) =>
  Math.min(SM90.maxRegistersPerThread, Math.floor(SM90.registersPerSm / threads / 8) * 8);

export function validateRoles(roles: readonly WarpgroupRole[], c: Checker): void {
  let total = 0;
  roles.forEach((r, i) => {
    const rc = c.at(`roles[${i}:${r.name}]`);
    const { min, max } = SM90.setmaxnreg;
    rc.require(
      Number.isInteger(r.maxRegisters) && r.maxRegisters % 8 === 0 && r.maxRegisters >= min && r.maxRegisters <= max,
      'maxRegisters',
      `setmaxnreg expects a multiple of 8 in ${min}..${max}, got ${r.maxRegisters}`,
    );
    rc.require(Number.isInteger(r.warpgroups) && r.warpgroups >= 1, 'warpgroups', `${r.warpgroups} must be >= 1`);
    total += r.warpgroups * SM90.warpgroupThreads * r.maxRegisters;
  });
  const threads = roleThreads(roles);
  c.require(threads <= SM90.maxThreadsPerBlock, 'threads', `${threads} > ${SM90.maxThreadsPerBlock} per block`);
  // setmaxnreg only moves registers between the CTA's warps: the CTA keeps what it was launched with
  // (the entry cap x threads), and a setmaxnreg.inc that needs more waits forever.
  const held = entryRegisterCap(threads) * threads;
  c.require(
    total <= held,
    'registers',
    `roles ask for ${total} registers (sum of warpgroups x 128 x maxRegisters) > ${held} the CTA holds ` +
      `(${entryRegisterCap(threads)} at entry x ${threads} threads); setmaxnreg.inc would wait forever`,
  );
}
