// Limits of an sm_90 (Hopper) streaming multiprocessor that the resource model checks against.
export const SM90 = {
  /** Dynamic shared memory one block may opt into (227 KB). */
  maxSmemPerBlock: 232_448,
  registersPerSm: 65_536,
  maxRegistersPerThread: 255,
  maxThreadsPerBlock: 1024,
  /** Named barriers per block; id 0 is __syncthreads. */
  namedBarriers: 16,
  warpgroupThreads: 128,
  /** setmaxnreg accepts multiples of 8 in this range. */
  setmaxnreg: { min: 24, max: 256 },
  /** TMA: at most 256 elements per box dimension, 5 dimensions. */
  tmaMaxBoxDim: 256,
} as const;
