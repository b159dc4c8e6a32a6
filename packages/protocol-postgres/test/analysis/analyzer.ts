import type { Statement } from '@querygate/core';
import { PostgresAnalyzer } from '../../src/analysis/PostgresAnalyzer';

let shared: Promise<PostgresAnalyzer> | undefined;

/** One loaded analyzer per test file (loading the WASM module takes ~10 ms). */
export function analyzer(): Promise<PostgresAnalyzer> {
  shared ??= PostgresAnalyzer.load();
  return shared;
}

/** Analyses a message that must hold exactly one statement. */
export async function one(sql: string): Promise<Statement> {
  const statements = (await analyzer()).analyze(sql);
  if (statements.length !== 1) throw new Error(`expected one statement from ${JSON.stringify(sql)}, got ${statements.length}`);
  return statements[0];
}

export function refs(list: readonly { schema?: string; name: string }[]): string[] {
  return list.map((r) => (r.schema === undefined ? r.name : `${r.schema}.${r.name}`)).sort();
}

export function risks(s: Statement): string[] {
  return [...s.risks].sort();
}
