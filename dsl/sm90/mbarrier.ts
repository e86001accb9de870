// mbarriers and named barriers: each has a name that says what it means, an arrive count and,
// for TMA completion, the transaction bytes it expects.
export interface MBarrier {
  name: string;
  /** One per pipeline stage. */
  count: number;
  arrivals: number;
  /** Bytes the TMA engine must deliver before the phase completes (0: none). */
  txBytes: number;
  meaning: string;
}

export interface NamedBarrier {
  name: string;
  id: number;
  threads: number;
  meaning: string;
}
