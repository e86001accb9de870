// Every rejected configuration is a DslError that names the DSL path, the value and the limit,
// in the user's words: "mlaDecode > smemPlan > total: 233472 B > 232448 B available".

export class DslError extends Error {
  constructor(
    /** Path of DSL objects from the root, e.g. ['mlaDecode', 'wgmma.qk', 'n']. */
    readonly path: readonly string[],
    /** What is wrong, with the value and the limit. */
    readonly detail: string,
  ) {
    super(`${path.join(' > ')}: ${detail}`);
    this.name = 'DslError';
  }
}

/** Several independent problems found in one validation pass, reported together. */
export class DslErrors extends Error {
  constructor(readonly errors: readonly DslError[]) {
    super(errors.map((e) => e.message).join('\n'));
    this.name = 'DslErrors';
  }
}

/** Collects problems under a path prefix; `throwIfAny` raises them all at once. */
export class Checker {
  private readonly found: DslError[] = [];
  constructor(private readonly prefix: readonly string[] = []) {}

  at(...segments: string[]): Checker {
    const child = new Checker([...this.prefix, ...segments]);
    // Children share the parent's list so one throwIfAny reports everything.
    (child as unknown as { found: DslError[] }).found = this.found;
    return child;
  }

  fail(field: string, detail: string): void {
    this.found.push(new DslError([...this.prefix, field], detail));
  }

  /** Records a failure when `ok` is false; returns `ok` so callers can skip dependent checks. */
  require(ok: boolean, field: string, detail: string): boolean {
    if (!ok) this.fail(field, detail);
    return ok;
  }

  /** Records a failure when `value` is none of `allowed` (a closed union read from a user config). */
  oneOf<T extends string>(field: string, value: T, allowed: readonly T[]): boolean {
    return this.require(allowed.includes(value), field, `'${value}' is not one of ${allowed.map((v) => `'${v}'`).join(', ')}`);
  }

  get errors(): readonly DslError[] {
    return this.found;
  }

  throwIfAny(): void {
    if (this.found.length === 1) throw this.found[0];
    if (this.found.length > 1) throw new DslErrors(this.found);
  }
}

/** The messages of a DSL validation failure, one per problem; undefined for any other error. */
export function dslErrorMessages(e: unknown): string[] | undefined {
  if (e instanceof DslErrors) return e.errors.map((x) => x.message);
  if (e instanceof DslError) return [e.message];
  return undefined;
}
