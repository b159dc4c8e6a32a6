import { environmentWithout, runProgram, type ProgramResult } from '../../../../test/runProgram';

export type RunResult = ProgramResult;

/** Runs a command to completion (never throws for a non-zero exit), with a clean libpq environment. */
export function run(command: string, args: readonly string[], options: { env?: Record<string, string>; input?: string; cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return runProgram(command, args, { timeoutMs: 45_000, ...options, env: { ...environmentWithout(/^PG/), LC_ALL: 'C', ...options.env } });
}
