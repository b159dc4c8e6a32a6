// Functions whose mere call is a risk, by unqualified lower-case name (a schema-qualified call such as
// `pg_catalog.pg_read_file` matches too; a same-named function in another schema is flagged as well,
// which errs on the safe side).
import type { RiskFlag } from '@querygate/core';

/** Server file system access (core, adminpack, large-object import/export). */
export const FILE_FUNCTIONS: ReadonlySet<string> = new Set([
  'pg_read_file', 'pg_read_binary_file', 'pg_ls_dir', 'pg_stat_file', 'pg_ls_logdir', 'pg_ls_waldir',
  'pg_ls_tmpdir', 'pg_ls_archive_statusdir', 'pg_ls_logicalsnapdir', 'pg_ls_logicalmapdir',
  'pg_ls_replslotdir', 'pg_ls_summariesdir', 'lo_import', 'lo_export', 'pg_file_write', 'pg_file_read',
  'pg_file_rename', 'pg_file_unlink', 'pg_file_sync', 'pg_file_length', 'pg_logdir_ls',
]);

/** Functions that run SQL text given as an argument (or read whole tables/schemas named by a string). */
export const SQL_TEXT_FUNCTIONS: ReadonlySet<string> = new Set([
  'dblink', 'dblink_exec', 'dblink_open', 'dblink_send_query', 'dblink_fetch',
  'query_to_xml', 'query_to_xmlschema', 'query_to_xml_and_xmlschema',
  'table_to_xml', 'table_to_xmlschema', 'table_to_xml_and_xmlschema',
  'schema_to_xml', 'schema_to_xmlschema', 'schema_to_xml_and_xmlschema',
  'database_to_xml', 'database_to_xmlschema', 'database_to_xml_and_xmlschema',
  'ts_stat', 'ts_rewrite',
]);

/** `set_config(name, ...)` settings that change the effective identity. */
export const PRIVILEGE_SETTINGS: ReadonlySet<string> = new Set(['role', 'session_authorization']);

export function baseName(qualified: string): string {
  const dot = qualified.lastIndexOf('.');
  return dot < 0 ? qualified : qualified.slice(dot + 1);
}

/** The risk a call to `name` carries regardless of its arguments. */
export function functionRisk(name: string): RiskFlag | undefined {
  const base = baseName(name);
  if (FILE_FUNCTIONS.has(base)) return 'fileAccess';
  if (SQL_TEXT_FUNCTIONS.has(base)) return 'dynamicSql';
  return undefined;
}
