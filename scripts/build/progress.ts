// Progress for the job runner, on stderr so that stdout stays clean for --json.
// On a terminal: finished jobs scroll by as lines, and one status line at the bottom is redrawn
// with what is running and for how long. In CI or a pipe: one plain line per event, no escapes.
import type { JobEvent } from './jobs.ts';

export interface Progress {
  onEvent: (event: JobEvent) => void;
  /** Stops the timer and clears the status line. */
  finish: () => void;
}

export interface ProgressOptions {
  stream?: NodeJS.WriteStream;
  env?: NodeJS.ProcessEnv;
  /** Force a mode; by default interactive when the stream is a TTY and $CI is not set. */
  interactive?: boolean;
}

export function isCi(env: NodeJS.ProcessEnv): boolean {
  const ci = env['CI'];
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

export function createProgress(total: number, opts: ProgressOptions = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  const interactive = opts.interactive ?? (stream.isTTY === true && !isCi(opts.env ?? process.env));
  return interactive ? new StatusLine(total, stream) : new PlainLines(total, stream);
}

/** Line for a finished job, shared by both modes. */
function finishedLine(event: JobEvent, finished: number, total: number): string | null {
  const count = `[${String(finished).padStart(String(total).length)}/${total}]`;
  switch (event.type) {
    case 'start':
      return null;
    case 'done':
      return `${count} done    ${event.id} ${seconds(event.seconds)}${event.note ? ` (${event.note})` : ''}`;
    case 'failed':
      return `${count} FAILED  ${event.id} ${seconds(event.seconds)}: ${firstLine(event.error.message)}`;
    case 'skipped':
      return `${count} skipped ${event.id} (${event.reason})`;
  }
}

class PlainLines implements Progress {
  private finished = 0;
  constructor(
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream,
  ) {}

  readonly onEvent = (event: JobEvent): void => {
    if (event.type === 'start') {
      this.stream.write(`start   ${event.id}\n`);
      return;
    }
    this.stream.write(`${finishedLine(event, ++this.finished, this.total)}\n`);
  };

  readonly finish = (): void => {};
}

class StatusLine implements Progress {
  private finished = 0;
  private readonly running = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream,
  ) {
    // Redraw each second so long nvcc runs visibly tick; unref so the timer never keeps node alive.
    this.timer = setInterval(() => this.draw(), 1000).unref();
  }

  readonly onEvent = (event: JobEvent): void => {
    if (event.type === 'start') {
      this.running.set(event.id, performance.now());
    } else {
      this.running.delete(event.id);
      this.clear();
      this.stream.write(`${finishedLine(event, ++this.finished, this.total)}\n`);
    }
    this.draw();
  };

  readonly finish = (): void => {
    clearInterval(this.timer);
    this.clear();
  };

  private clear(): void {
    this.stream.write('\r\x1b[2K');
  }

  private draw(): void {
    if (this.running.size === 0) return this.clear();
    const now = performance.now();
    const jobs = [...this.running].map(([id, t0]) => `${id} ${seconds((now - t0) / 1000)}`).join(', ');
    const line = `building ${this.finished}/${this.total} · ${this.running.size} running: ${jobs}`;
    const width = Math.max(20, (this.stream.columns || 100) - 1);
    this.stream.write(`\r\x1b[2K${line.length > width ? `${line.slice(0, width - 1)}…` : line}`);
  }
}

function seconds(s: number): string {
  return `${s.toFixed(1)}s`;
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? '';
}
