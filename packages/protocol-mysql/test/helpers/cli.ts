import { environmentWithout, runProgram, type ProgramResult } from '../../../../test/runProgram';

export type CliResult = ProgramResult;

/** Runs a client program with a clean environment (no MYSQL_* variables), feeding `input` to stdin. */
export function runCli(command: string, args: readonly string[], input = '', timeoutMs = 60_000, cwd?: string): Promise<CliResult> {
  return runProgram(command, args, { env: environmentWithout(/^(MYSQL|MARIADB)/), input, timeoutMs, cwd });
}
