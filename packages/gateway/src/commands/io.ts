import { existsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { ConfigError, loadConfigFile } from '@querygate/core';

/** Where a command writes, and how it waits (tests replace both). */
export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
  sleep?(ms: number): Promise<void>;
}

export const processIo: CommandIo = {
  out: (text) => { process.stdout.write(text); },
  err: (text) => { process.stderr.write(text); },
};

export function sleep(io: CommandIo, ms: number): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  if (io.sleep) return io.sleep(ms);
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `--name value` or `--name=value`. */
export function flag(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i >= 0) return args[i + 1];
  const inline = args.find((a) => a.startsWith(`${name}=`));
  return inline?.slice(name.length + 1);
}

/** Arguments that are neither flags nor flag values. */
export function positionals(args: readonly string[], valued: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (valued.includes(a)) { i++; continue; }
    if (a.startsWith('--')) continue;
    out.push(a);
  }
  return out;
}

// The config may reference secrets (${env:...}) this shell does not have; only recording.dir is
// needed here, so missing variables resolve to a placeholder instead of failing the command.
const ANY_ENV = new Proxy({} as Record<string, string>, {
  get: (_target, key) => (typeof key === 'string' ? (process.env[key] ?? 'unused-by-this-command') : undefined),
});

/**
 * The recordings directory from `--dir DIR`, or `recording.dir` of `--config FILE`. Undefined
 * after reporting the problem on `io.err`.
 */
export function recordingDir(args: readonly string[], io: CommandIo, command: string): string | undefined {
  const dir = flag(args, '--dir');
  if (dir) return dir;
  const file = flag(args, '--config');
  if (!file) {
    io.err(`querygate ${command}: --dir DIR or --config FILE is required\n`);
    return undefined;
  }
  try {
    const loaded = loadConfigFile(file, { env: ANY_ENV });
    if (loaded.config.recording.dir === undefined) {
      io.err(`querygate ${command}: ${file} does not set recording.dir (recording is off)\n`);
      return undefined;
    }
    return loaded.config.recording.dir;
  } catch (e) {
    if (e instanceof ConfigError) { io.err(`${e.message}\n`); return undefined; }
    throw e;
  }
}

/** A session argument may be a recording file's path: then its directory is the one to read. */
export function sessionArgument(value: string): { readonly id: string; readonly dir?: string } {
  if (value.endsWith('.jsonl') && existsSync(value)) return { id: basename(value, '.jsonl'), dir: dirname(value) };
  return { id: value };
}
