// External client programs the integration tests drive: sysbench (Debian) and a JDBC probe (Maven).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDebianPackages } from '../../../services/src';
import { runCli } from './cli';

/** Installs sysbench from Debian when it is missing (CI starts from a clean machine). */
export async function ensureSysbench(): Promise<void> {
  await ensureDebianPackages(['sysbench']);
}

export const JDBC_DIR = join(__dirname, '..', 'jdbc');

/** Compiles the JDBC probe and copies its dependencies (offline first, then online). Returns the classpath. */
export async function buildJdbcProbe(): Promise<string> {
  const goals = ['-q', '-B', 'compile', 'dependency:copy-dependencies', '-DoutputDirectory=target/lib'];
  let r = await runCli('mvn', ['-o', ...goals], '', 300_000, JDBC_DIR);
  if (r.code !== 0) r = await runCli('mvn', goals, '', 300_000, JDBC_DIR);
  if (r.code !== 0) throw new Error(`mvn failed:\n${r.stdout}\n${r.stderr}`);
  if (!existsSync(join(JDBC_DIR, 'target', 'classes', 'querygate', 'JdbcProbe.class'))) throw new Error('JdbcProbe was not compiled');
  return `${join(JDBC_DIR, 'target', 'classes')}:${join(JDBC_DIR, 'target', 'lib', '*')}`;
}
