// Where a command writes: stdout and stderr as functions (tests capture them), and how it fails.

export interface CommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** The process's own streams. */
export const processIo: CommandIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

/**
 * A verb's failure exit: `mlagen <verb>: <message>` on stderr and, with --json, `{ok: false, exitCode, error}`
 * on stdout; returns the exit code.
 */
export function failWith(verb: string, io: CommandIo, json: boolean | undefined) {
  return (code: number, message: string): number => {
    io.stderr(`mlagen ${verb}: ${message}\n`);
    if (json) io.stdout(`${JSON.stringify({ ok: false, exitCode: code, error: message }, null, 2)}\n`);
    return code;
  };
}
