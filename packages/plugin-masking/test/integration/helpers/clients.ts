// Real clients driven by the integration tests: node-postgres (text, binary, prepared), psql, pgjdbc,
// mysql2 (query / execute) and the mariadb CLI. Each run reports what the client saw as text, so
// the corpus test can search it for clear values.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Client, FieldDef, QueryConfig } from 'pg';
import type { Connection, FieldPacket } from 'mysql2/promise';
import { environmentWithout, runProgram, type ProgramResult } from '../../../../../test/runProgram';

export type RunResult = ProgramResult;

/** Runs a program to completion (never throws for a non-zero exit) with a clean client environment. */
export function run(command: string, args: readonly string[], options: { env?: Record<string, string>; input?: string; cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return runProgram(command, args, { ...options, env: { ...environmentWithout(/^(PG|MYSQL|MARIADB)/), LC_ALL: 'C.UTF-8', ...options.env } });
}

/** How a statement (or a list of them) ended for the client. */
export type Outcome = 'rows' | 'refused' | 'error';

export interface ClientRun {
  readonly outcome: Outcome;
  /** Everything the client received, as text: rows, column names, notices, error messages. */
  readonly text: string;
  readonly error?: string;
}

/** `QG_MASKING_UNRESOLVED` as each protocol shows it. */
export const REFUSAL = { sqlstate: '42501', mysqlErrno: 1142 } as const;

export type PgMode = 'simple' | 'extended' | 'prepared' | 'binary';

/** A type parser table that hands every value over untouched (text as string, binary as Buffer). */
const RAW_TYPES = { getTypeParser: () => (value: string | Buffer) => value };

function stringify(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
      const b = Buffer.from((v as { data: number[] }).data);
      return `hex:${b.toString('hex')} utf8:${b.toString('utf8')}`;
    }
    return v;
  });
}

let preparedCounter = 0;

/** A list of statements was refused if any of them was (a refused step makes later ones fail too). */
function worst(outcomes: readonly Outcome[]): Outcome {
  return outcomes.includes('refused') ? 'refused' : outcomes.includes('error') ? 'error' : 'rows';
}

/** Runs `statements` in order on one node-postgres client. */
export async function runPg(client: Client, statements: readonly string[], mode: PgMode): Promise<ClientRun> {
  const seen: string[] = [];
  const outcomes: Outcome[] = [];
  let error: string | undefined;
  for (const text of statements) {
    const config: QueryConfig & { queryMode?: 'extended'; binary?: boolean; types?: typeof RAW_TYPES } =
      mode === 'simple' ? { text, types: RAW_TYPES }
        : mode === 'extended' ? { text, queryMode: 'extended', types: RAW_TYPES }
          : mode === 'binary' ? { text, queryMode: 'extended', binary: true, types: RAW_TYPES }
            : { text, name: `qg_corpus_${++preparedCounter}`, types: RAW_TYPES };
    try {
      if (mode === 'prepared') await client.query(config); // parsed and executed once; the second run reuses the named statement
      const result = await client.query(config);
      const results = Array.isArray(result) ? result : [result];
      const body = results.map((r: { fields: FieldDef[]; rows: unknown[] }) => stringify({ fields: r.fields.map((f) => f.name), rows: r.rows })).join('\n');
      seen.push(body);
      outcomes.push('rows');
    } catch (err) {
      const e = err as { code?: string; message?: string; detail?: string; hint?: string; where?: string };
      const message = `${e.code ?? '?'} ${e.message ?? String(err)} ${e.detail ?? ''} ${e.hint ?? ''} ${e.where ?? ''}`;
      seen.push(message);
      outcomes.push(e.code === REFUSAL.sqlstate ? 'refused' : 'error');
      error ??= message;
    }
  }
  return { outcome: worst(outcomes), text: seen.join('\n'), error };
}

export type MysqlMode = 'query' | 'execute';

export async function runMysql(connection: Connection, statements: readonly string[], mode: MysqlMode): Promise<ClientRun> {
  const seen: string[] = [];
  const outcomes: Outcome[] = [];
  let error: string | undefined;
  for (const sql of statements) {
    try {
      const [rows, fields] = mode === 'query' ? await connection.query(sql) : await connection.execute(sql);
      const body = stringify({ fields: ((fields as FieldPacket[] | undefined) ?? []).map((f) => f.name), rows });
      seen.push(body);
      outcomes.push('rows');
    } catch (err) {
      const e = err as { errno?: number; sqlState?: string; message?: string };
      const message = `${e.errno ?? '?'} ${e.sqlState ?? ''} ${e.message ?? String(err)}`;
      seen.push(message);
      outcomes.push(e.errno === REFUSAL.mysqlErrno ? 'refused' : 'error');
      error ??= message;
    }
  }
  return { outcome: worst(outcomes), text: seen.join('\n'), error };
}

/** psql, one process per call: unaligned output, errors on stderr. */
export async function runPsql(port: number, who: { user: string; password: string }, database: string, script: string, extraArgs: readonly string[] = []): Promise<RunResult> {
  return run('psql', ['-X', '-q', '-A', '-v', 'VERBOSITY=verbose', '-h', '127.0.0.1', '-p', String(port), '-U', who.user, '-d', database, ...extraArgs, '-f', '-'], {
    env: { PGPASSWORD: who.password, PGSSLMODE: 'disable', PGCONNECT_TIMEOUT: '10' },
    input: script,
  });
}

/** The mariadb CLI in batch mode, one process per call; `--force` goes on after errors. */
export async function runMariadb(host: string, port: number, who: { user: string; password: string }, database: string, script: string, extraArgs: readonly string[] = []): Promise<RunResult> {
  return run('mariadb', ['--no-defaults', '--protocol=TCP', '-h', host, '-P', String(port), '-u', who.user, `-p${who.password}`, '--batch', '--force', ...extraArgs, database], { input: script });
}

/** Classifies a CLI run from its error output. */
export function cliOutcome(result: RunResult, protocol: 'postgres' | 'mysql'): Outcome {
  // psql runs with VERBOSITY=verbose, so errors show their SQLSTATE.
  const refused = protocol === 'postgres'
    ? result.stderr.includes(`ERROR:  ${REFUSAL.sqlstate}:`)
    : result.stderr.includes(`ERROR ${REFUSAL.mysqlErrno}`);
  if (refused) return 'refused';
  return /ERROR/.test(result.stderr) ? 'error' : 'rows';
}

const JDBC_DIR = join(__dirname, '..', 'jdbc');
const CLASS_FILE = join(JDBC_DIR, 'target', 'classes', 'querygate', 'MaskProbe.class');
const SOURCE = join(JDBC_DIR, 'src', 'main', 'java', 'querygate', 'MaskProbe.java');
const CLASSPATH_FILE = join(JDBC_DIR, 'target', 'classpath.txt');

const PGJDBC_JAR = join(homedir(), '.m2', 'repository', 'org', 'postgresql', 'postgresql', '42.7.13', 'postgresql-42.7.13.jar');

/**
 * Compiles the pgjdbc probe when its source changed. With the driver already in the local Maven
 * repository, javac alone does it in seconds; otherwise mvn (offline first, then online) fetches it.
 */
export async function buildJdbcProbe(): Promise<string> {
  const fresh = existsSync(CLASS_FILE) && existsSync(CLASSPATH_FILE) && statSync(CLASS_FILE).mtimeMs >= statSync(SOURCE).mtimeMs;
  if (!fresh && existsSync(PGJDBC_JAR)) {
    const r = await run('javac', ['--release', '17', '-d', join(JDBC_DIR, 'target', 'classes'), '-cp', PGJDBC_JAR, SOURCE], { timeoutMs: 120_000 });
    if (r.code === 0) {
      writeFileSync(CLASSPATH_FILE, PGJDBC_JAR);
      return `${join(JDBC_DIR, 'target', 'classes')}:${PGJDBC_JAR}`;
    }
  }
  if (!fresh) {
    const args = ['-q', '-B', 'compile', 'dependency:build-classpath', `-Dmdep.outputFile=${CLASSPATH_FILE}`];
    let r = await run('mvn', ['-o', ...args], { cwd: JDBC_DIR, timeoutMs: 240_000 });
    if (r.code !== 0) r = await run('mvn', args, { cwd: JDBC_DIR, timeoutMs: 240_000 });
    if (r.code !== 0) throw new Error(`mvn failed:\n${r.stdout}\n${r.stderr}`);
  }
  return `${join(JDBC_DIR, 'target', 'classes')}:${readFileSync(CLASSPATH_FILE, 'utf8').trim()}`;
}

export interface JdbcBlock { readonly index: number; readonly lines: string[] }

/** Runs the probe over `queries` (one per line); returns the output block of each query. */
export async function runJdbc(classpath: string, url: string, who: { user: string; password: string }, mode: 'statement' | 'prepared', queryFile: string): Promise<{ blocks: Map<number, JdbcBlock>; raw: RunResult }> {
  const raw = await run('java', ['-cp', classpath, 'querygate.MaskProbe', url, who.user, who.password, mode, queryFile], { timeoutMs: 90_000 });
  const blocks = new Map<number, JdbcBlock>();
  let current: JdbcBlock | undefined;
  for (const line of raw.stdout.split('\n')) {
    const m = /^==qg== (\d+)$/.exec(line);
    if (m) { current = { index: Number(m[1]), lines: [] }; blocks.set(current.index, current); continue; }
    if (current && line !== '') current.lines.push(line);
  }
  return { blocks, raw };
}

export interface CliPiece { readonly stdout: string; readonly stderr: string }

/**
 * psql over many single-statement entries in ONE process: `\\echo` / `\\warn` markers split its
 * stdout and stderr per entry.
 */
export async function runPsqlBatch(port: number, who: { user: string; password: string }, database: string, queries: readonly string[]): Promise<Map<number, CliPiece>> {
  const script = queries.map((q, i) => `\\echo ==qg== ${i}\n\\warn ==qg== ${i}\n${q};\n`).join('');
  const r = await runPsql(port, who, database, script);
  const out = splitMarked(r.stdout);
  const err = splitMarked(r.stderr);
  const pieces = new Map<number, CliPiece>();
  queries.forEach((_q, i) => pieces.set(i, { stdout: out.get(i) ?? '', stderr: err.get(i) ?? '' }));
  return pieces;
}

function splitMarked(text: string): Map<number, string> {
  const parts = new Map<number, string>();
  let current = -1;
  for (const line of text.split('\n')) {
    const m = /^==qg== (\d+)$/.exec(line);
    if (m) { current = Number(m[1]); parts.set(current, ''); continue; }
    if (current >= 0) parts.set(current, `${parts.get(current)!}${line}\n`);
  }
  return parts;
}

/**
 * The mariadb CLI over many single-statement entries in as few processes as possible: a marker
 * SELECT before each entry splits stdout, `at line N` attributes errors. An error without a line
 * (a client-side one, such as a malformed packet) ends the process: the rest runs in a new one.
 */
export async function runMariadbBatch(host: string, port: number, who: { user: string; password: string }, database: string, queries: readonly string[], extraArgs: readonly string[] = []): Promise<Map<number, CliPiece>> {
  const pieces = new Map<number, CliPiece>();
  let from = 0;
  while (from < queries.length) {
    const lines: string[] = [];
    const entryOfLine = new Map<number, number>();
    for (let i = from; i < queries.length; i++) {
      lines.push(`SELECT '==qg== ${i}' AS qg_marker;`);
      lines.push(`${queries[i]!.replace(/\n/g, ' ')};`);
      entryOfLine.set(lines.length, i);
    }
    const r = await runMariadb(host, port, who, database, lines.join('\n') + '\n', extraArgs);
    const out = new Map<number, string>();
    let current = -1;
    for (const line of r.stdout.split('\n')) {
      const m = /^==qg== (\d+)$/.exec(line);
      if (m) { current = Number(m[1]); out.set(current, ''); continue; }
      if (line === 'qg_marker') continue;
      if (current >= 0) out.set(current, `${out.get(current)!}${line}\n`);
    }
    const errors = new Map<number, string>();
    let unattributed = '';
    for (const line of r.stderr.split('\n')) {
      const m = / at line (\d+)/.exec(line);
      const entry = m ? entryOfLine.get(Number(m[1])) : undefined;
      if (entry !== undefined) errors.set(entry, `${errors.get(entry) ?? ''}${line}\n`);
      else if (line.trim() !== '' && !line.startsWith('-----') && !/^SELECT '==qg==/.test(line)) unattributed += `${line}\n`;
    }
    let last = from;
    for (let i = from; i < queries.length; i++) if (out.has(i)) last = i;
    // An error without a line number goes to the entries that printed nothing and got no other
    // error (with --force the CLI may go on after it), else to the last entry that ran.
    const silent: number[] = [];
    for (let i = from; i <= last; i++) if ((out.get(i) ?? '').trim() === '' && !errors.has(i)) silent.push(i);
    for (let i = from; i <= last; i++) {
      const gets = silent.length > 0 ? silent.includes(i) : i === last;
      pieces.set(i, { stdout: out.get(i) ?? '', stderr: (errors.get(i) ?? '') + (gets ? unattributed : '') });
    }
    from = last + 1;
  }
  return pieces;
}
