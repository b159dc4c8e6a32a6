import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readSync, fstatSync, statSync } from 'node:fs';
import { ProcessGuard } from './ProcessGuard';

export interface ServerProcessOptions {
  command: string;
  args: readonly string[];
  /** stdout and stderr are appended here, so a restarted server keeps one continuous log. */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  uid?: number;
  gid?: number;
}

/** One long-running server child process: started detached from our event loop, logged to a file, killable. */
export class ServerProcess {
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;
  /** Byte offset in the log file where this run's output starts (earlier runs precede it). */
  readonly logStart: number;
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  private running = true;

  constructor(private readonly opts: ServerProcessOptions) {
    const fd = openSync(opts.logFile, 'a');
    try {
      this.logStart = fstatSync(fd).size;
      this.child = spawn(opts.command, opts.args, {
        cwd: opts.cwd,
        env: opts.env ?? process.env,
        uid: opts.uid,
        gid: opts.gid,
        stdio: ['ignore', fd, fd],
      });
    } finally {
      // The child holds its own copy of the descriptor.
      closeSync(fd);
    }
    this.exited = new Promise<void>((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.running = false;
        this.exitCode = code;
        this.exitSignal = signal;
        resolve();
      });
      this.child.once('error', () => {
        this.running = false;
        resolve();
      });
    });
    ProcessGuard.get().track(this.child);
    // Teardown is explicit (stop()); an unref'd child can never keep a test run from exiting, and the
    // ProcessGuard kills it if the process ends without teardown.
    this.child.unref();
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Resolves when the process has exited (immediately if it already has). */
  waitForExit(timeoutMs?: number): Promise<boolean> {
    if (!this.running) return Promise.resolve(true);
    if (timeoutMs === undefined) return this.exited.then(() => true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      void this.exited.then(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running) this.child.kill(sig);
  }

  /** Sends `sig`, waits up to `timeoutMs` for a clean exit, then SIGKILLs. */
  async stop(sig: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<void> {
    if (!this.running) return;
    this.signal(sig);
    if (await this.waitForExit(timeoutMs)) return;
    this.signal('SIGKILL');
    await this.waitForExit();
  }

  describeExit(): string {
    return this.exitSignal !== null ? `was killed by ${this.exitSignal}` : `exited with code ${String(this.exitCode)}`;
  }

  /** This run's log output so far (for readiness checks). */
  logSinceStart(): string {
    return readRange(this.opts.logFile, this.logStart, Number.MAX_SAFE_INTEGER);
  }

  /** The last few KB of the log file, for error messages. */
  logTail(bytes = 6000): string {
    return tailFile(this.opts.logFile, bytes);
  }
}

function readRange(file: string, start: number, maxBytes: number): string {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return '';
  }
  const from = Math.max(0, start);
  const length = Math.min(size - from, maxBytes);
  if (length <= 0) return '';
  const buf = Buffer.alloc(length);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, length, from);
  } finally {
    closeSync(fd);
  }
  return buf.toString('utf8');
}

/** The last `bytes` bytes of a file ('' if it does not exist). */
export function tailFile(file: string, bytes = 6000): string {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return '';
  }
  return readRange(file, size - bytes, bytes);
}
