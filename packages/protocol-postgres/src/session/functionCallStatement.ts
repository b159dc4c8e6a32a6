import type { RiskFlag, Statement } from '@querygate/core';

const FILE_FUNCTIONS = new Set(['lo_import', 'lo_export', 'pg_read_file', 'pg_read_binary_file', 'pg_ls_dir', 'pg_stat_file']);

/**
 * The Statement a FunctionCall ('F') message stands for. It carries no SQL, only a function OID
 * (resolved to a name through the catalog), so it is `procedural` / `function_call` with the
 * `dynamicSql` risk (the gateway cannot see what the function does), plus `fileAccess` for the
 * server-side file functions (lo_import / lo_export...). Policy can deny the whole class.
 */
export function functionCallStatement(name: string, oid: number): Statement {
  const bare = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1) : name;
  const risks = new Set<RiskFlag>(['dynamicSql']);
  if (FILE_FUNCTIONS.has(bare)) risks.add('fileAccess');
  const text = `SELECT ${name}(...) /* FunctionCall message, function oid ${oid} */`;
  return {
    text,
    kind: 'procedural',
    command: 'function_call',
    fingerprint: `function_call:${name}`,
    normalized: `SELECT ${name}(...)`,
    reads: [],
    writes: [],
    functions: [name],
    risks,
    lineage: { outputs: [], complete: false },
  };
}
