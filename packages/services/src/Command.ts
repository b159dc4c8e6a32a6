import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface RunOptions {
  /** Written to the command's stdin, which is then closed. */
  input?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run as this uid/gid (only meaningful when we are root). */
  uid?: number;
  gid?: number;
  /** Killed with SIGKILL and reported as a failure after this long. Default 120 s. */
  timeoutMs?: number;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A helper command failed; carries its full output so callers can put it into their own errors. */
export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly result: RunResult,
    reason?: string,
  ) {
    const why =
      reason ?? (result.signal !== null ? `killed by ${result.signal}` : `exited with code ${String(result.code)}`);
    const output = `${result.stderr}\n${result.stdout}`.trim();
    super(`${command}: ${why}${output === '' ? '' : `\n${lastChars(output, 4000)}`}`);
    this.name = 'CommandError';
  }
}

function lastChars(text: string, max: number): string {
  return text.length <= max ? text : `...${text.slice(text.length - max)}`;
}

function describe(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

/** Runs a short-lived helper command to completion, capturing its output; rejects unless it exits 0. */
export async function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const result = await runUnchecked(cmd, args, opts);
  if (result.code !== 0) throw new CommandError(describe(cmd, args), result);
  return result;
}

/** Like run(), but resolves with the exit status instead of rejecting on failure. */
export function runUnchecked(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise<RunResult>((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      uid: opts.uid,
      gid: opts.gid,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const collect = (code: number | null, signal: NodeJS.Signals | null): RunResult => ({
      code,
      signal,
      stdout: Buffer.concat(out).toString('utf8'),
      stderr: Buffer.concat(err).toString('utf8'),
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 120_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${describe(cmd, args)}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = collect(code, signal);
      if (timedOut) {
        reject(new CommandError(describe(cmd, args), result, `timed out after ${opts.timeoutMs ?? 120_000} ms`));
      } else {
        resolve(result);
      }
    });
    // A command that exits without reading stdin makes the write fail with EPIPE; its exit status tells the story.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** process.env without the variables that would redirect a client tool (PGHOST, MYSQL_HOST, ...) away from our server. */
export function cleanClientEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(PG|MYSQL|MARIADB)/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

/** Absolute path of an executable on PATH or in the sbin dirs (root-only tools live there and PATH may lack them). */
export function findExecutable(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return null;
}
