// The corpus of attempts to get a blocked statement past the guardrails. Each attempt names the rule
// that must refuse it under the corpus policy (policy.ts: the demo's safe-default rules). The tests
// send every attempt through real clients, then check the client's error, the upstream's state and
// the audit trail.
//
// Victims (created upstream by the tests, as the superuser, before the corpus runs):
//   PostgreSQL: database qg_victim_db, schema qg_victim_schema (table keep), tables qg_victim (10 rows)
//               and qg_victim_log (3 rows), sequence qg_canary, roles app / qg_spare.
//   MariaDB:    database qg_victim_db, tables app.qg_victim (10 rows) and app.qg_victim_log (3 rows),
//               sequence app.qg_canary, user qg_spare.
// `{dir}` is a directory both the test and the database server can write to: a statement that would
// write a file names a file in it, and the test checks that the file was never written.

/** How the statement reaches the gateway. */
export type PostgresPath =
  /** node-postgres, simple query protocol ('Q'). */
  | 'simple'
  /** node-postgres, extended protocol: Parse / Bind / Execute ('P' carries the text). */
  | 'extended'
  /** the psql CLI, `-c` text as one 'Q' message. */
  | 'psql'
  /** a raw FunctionCall ('F') message after a real SCRAM login. */
  | 'functionCall';

export type MysqlPath =
  /** mysql2 `query()`: COM_QUERY (multipleStatements on). */
  | 'query'
  /** mysql2 `execute()`: COM_STMT_PREPARE carries the text. */
  | 'execute'
  /** the mariadb CLI, `-e` text. */
  | 'cli';

interface AttemptBase {
  /** Unique and stable: failure messages name it. */
  readonly id: string;
  readonly sql: string;
  /** Name of the guardrails rule that must refuse it. */
  readonly rule: string;
  /** A file under `{dir}` the statement would create if it ran. */
  readonly writes?: string;
  /** Why this attempt is in the corpus (the trick it tries). */
  readonly trick: string;
}

export interface PostgresAttempt extends AttemptBase {
  /** Default: simple, extended and psql. */
  readonly via?: readonly PostgresPath[];
  /** FunctionCall: the function (regprocedure text) and its text arguments. */
  readonly functionCall?: { readonly fn: string; readonly args: readonly string[] };
}

export interface MysqlAttempt extends AttemptBase {
  /** Default: query, execute and cli. */
  readonly via?: readonly MysqlPath[];
  /**
   * Refused by the MySQL adapter itself, before any policy runs (its `rule` is the adapter's):
   * the errno and a part of the message the client gets instead of the guardrails' 1142.
   */
  readonly refusedByAdapter?: { readonly errno: number; readonly message: string };
}

// Rule names of the demo policy (packages/gateway/demo/querygate.demo.yaml) and the corpus additions.
export const R = {
  dropDatabase: 'no-drop-database',
  truncate: 'no-truncate',
  fileAccess: 'no-file-access',
  privilege: 'no-privilege-change',
  unknown: 'no-unknown',
  noWhere: 'unbounded-write-needs-approval',
  ddl: 'ddl-needs-approval',
  dynamicSql: 'no-dynamic-sql',
} as const;

/** Rules whose action is `approve`: with no approval plugin the refusal says "requires approval". */
export const APPROVAL_RULES: ReadonlySet<string> = new Set([R.noWhere, R.ddl]);

export const POSTGRES_ATTEMPTS: readonly PostgresAttempt[] = [
  // Several statements in one message: every one is judged, one refusal refuses the message.
  { id: 'pg-multi-drop-database', sql: 'SELECT 1; DROP DATABASE qg_victim_db', rule: R.dropDatabase, trick: 'harmless statement first', via: ['simple', 'psql'] },
  { id: 'pg-multi-canary-drop-schema', sql: "SELECT nextval('qg_canary'); DROP SCHEMA qg_victim_schema CASCADE", rule: R.dropDatabase, trick: 'an allowed statement with a side effect first: it must not run either', via: ['simple', 'psql'] },
  { id: 'pg-multi-txn-truncate', sql: 'BEGIN; TRUNCATE qg_victim; COMMIT', rule: R.truncate, trick: 'wrapped in a transaction', via: ['simple', 'psql'] },
  { id: 'pg-multi-drop-table-last', sql: "SELECT 1; SELECT 'a;b'; DROP TABLE qg_victim", rule: R.ddl, trick: 'a semicolon inside a string literal before the real split', via: ['simple', 'psql'] },
  // Comments.
  { id: 'pg-block-comment-drop-database', sql: '/* harmless maintenance */ DROP DATABASE qg_victim_db', rule: R.dropDatabase, trick: 'leading block comment' },
  { id: 'pg-line-comment-drop-database', sql: '-- just a comment\nDROP DATABASE qg_victim_db', rule: R.dropDatabase, trick: 'leading -- comment, then a newline' },
  { id: 'pg-comment-hides-semicolon', sql: 'SELECT 1 /* ; */; DROP TABLE qg_victim --', rule: R.ddl, trick: 'a semicolon inside a comment, trailing --', via: ['simple', 'psql'] },
  { id: 'pg-nested-comment-truncate', sql: '/* outer /* nested */ still a comment */ TRUNCATE qg_victim', rule: R.truncate, trick: 'PostgreSQL block comments nest' },
  // Odd whitespace, case and quoting.
  { id: 'pg-case-tab-drop-database', sql: 'dRoP\tdAtAbAsE\n"qg_victim_db"', rule: R.dropDatabase, trick: 'mixed case, tab, quoted identifier' },
  { id: 'pg-crlf-truncate-only', sql: 'TrUnCaTe\r\n\tTABLE   ONLY qg_victim', rule: R.truncate, trick: 'CRLF, TABLE ONLY' },
  { id: 'pg-unicode-ident-drop-database', sql: 'DROP DATABASE U&"qg\\005fvictim\\005fdb"', rule: R.dropDatabase, trick: 'Unicode-escaped identifier' },
  { id: 'pg-force-drop-database', sql: 'DROP DATABASE IF EXISTS qg_victim_db WITH (FORCE)', rule: R.dropDatabase, trick: 'IF EXISTS and FORCE options' },
  { id: 'pg-whitespace-delete', sql: '   \n\n  delete\nfrom\n  qg_victim', rule: R.noWhere, trick: 'leading blank lines, lower case' },
  // Prepared statements: the Parse text is judged.
  { id: 'pg-extended-update-param', sql: 'UPDATE qg_victim SET v = $1', rule: R.noWhere, trick: 'a parameter instead of a literal', via: ['extended'] },
  // SQL-level PREPARE / EXECUTE.
  { id: 'pg-sql-prepare-delete', sql: 'PREPARE qg_p AS DELETE FROM qg_victim', rule: R.noWhere, trick: 'SQL PREPARE of an unbounded DELETE' },
  { id: 'pg-sql-prepare-execute', sql: 'PREPARE qg_q AS UPDATE qg_victim SET v = $1; EXECUTE qg_q(\'pwned\')', rule: R.noWhere, trick: 'PREPARE and EXECUTE in one message', via: ['simple', 'psql'] },
  // DO blocks and functions with dynamic SQL.
  { id: 'pg-do-execute-drop-table', sql: "DO $$ BEGIN EXECUTE 'DROP TABLE qg_victim'; END $$", rule: R.dynamicSql, trick: 'EXECUTE of a constant string in a DO block' },
  { id: 'pg-do-execute-drop-database', sql: "DO $$ BEGIN EXECUTE 'DROP DATABASE qg_victim_db'; END $$", rule: R.dynamicSql, trick: 'DROP DATABASE inside DO' },
  { id: 'pg-do-static-truncate', sql: 'DO $$ BEGIN TRUNCATE qg_victim; END $$', rule: R.dynamicSql, trick: 'static SQL in a DO body' },
  { id: 'pg-do-dynamic-truncate', sql: "DO $$ BEGIN EXECUTE 'TRUNC' || 'ATE qg_victim'; END $$", rule: R.dynamicSql, trick: 'EXECUTE of a computed string: the gateway cannot know what it runs' },
  { id: 'pg-do-tagged-dollar', sql: "DO $body$ BEGIN EXECUTE $x$DELETE FROM qg_victim$x$; END $body$", rule: R.dynamicSql, trick: 'tagged dollar quotes inside tagged dollar quotes' },
  { id: 'pg-do-read-file', sql: "DO $$ BEGIN PERFORM pg_read_file('/etc/hostname'); END $$", rule: R.fileAccess, trick: 'file function inside DO' },
  { id: 'pg-do-plpython', sql: "DO LANGUAGE plpython3u $$ import os; os.system('touch {dir}/plpython') $$", rule: R.unknown, trick: 'a body in a language the gateway cannot read', writes: 'plpython' },
  { id: 'pg-create-function-execute', sql: "CREATE FUNCTION qg_evil() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'DROP TABLE qg_victim'; END $$", rule: R.dynamicSql, trick: 'a function with dynamic SQL to call later' },
  { id: 'pg-create-procedure-truncate', sql: 'CREATE PROCEDURE qg_wipe() LANGUAGE sql AS $$ TRUNCATE qg_victim $$', rule: R.dynamicSql, trick: 'a procedure body that truncates' },
  { id: 'pg-dblink-exec', sql: "SELECT dblink_exec('dbname=app', 'DROP TABLE qg_victim')", rule: R.dynamicSql, trick: 'SQL text handed to dblink_exec' },
  // Data-modifying CTEs.
  { id: 'pg-cte-delete', sql: 'WITH d AS (DELETE FROM qg_victim RETURNING *) SELECT count(*) FROM d', rule: R.noWhere, trick: 'DELETE without WHERE inside a CTE of a SELECT' },
  { id: 'pg-cte-update', sql: "WITH u AS (UPDATE qg_victim SET v = 'pwned' RETURNING id) SELECT * FROM u", rule: R.noWhere, trick: 'UPDATE without WHERE inside a CTE' },
  { id: 'pg-cte-nested-delete', sql: 'WITH a AS (SELECT 1), b AS (WITH c AS (DELETE FROM qg_victim RETURNING 1) SELECT * FROM c) SELECT * FROM b', rule: R.noWhere, trick: 'CTE inside a CTE' },
  // SELECT INTO creates a table.
  { id: 'pg-select-into', sql: 'SELECT * INTO qg_stolen FROM qg_victim', rule: R.ddl, trick: 'SELECT INTO is CREATE TABLE AS' },
  { id: 'pg-create-table-as', sql: 'CREATE TABLE qg_stolen AS SELECT * FROM qg_victim', rule: R.ddl, trick: 'CREATE TABLE AS' },
  // COPY with server-side files and programs.
  { id: 'pg-copy-to-program', sql: "COPY qg_victim TO PROGRAM 'cat > {dir}/copy-program'", rule: R.fileAccess, trick: 'COPY TO PROGRAM runs a shell command', writes: 'copy-program' },
  { id: 'pg-copy-query-to-file', sql: "COPY (SELECT * FROM qg_victim) TO '{dir}/copy-file'", rule: R.fileAccess, trick: 'COPY (query) TO a server file', writes: 'copy-file' },
  { id: 'pg-copy-from-file', sql: "COPY qg_victim_log FROM '{dir}/rows.csv' WITH (FORMAT csv)", rule: R.fileAccess, trick: 'COPY FROM a server file' },
  { id: 'pg-copy-from-program', sql: "COPY qg_victim_log FROM PROGRAM 'echo 99,x' WITH (FORMAT csv)", rule: R.fileAccess, trick: 'COPY FROM PROGRAM' },
  // Changing the effective identity.
  { id: 'pg-set-role', sql: 'SET ROLE qg_spare', rule: R.privilege, trick: 'SET ROLE' },
  { id: 'pg-set-local-role', sql: 'BEGIN; SET LOCAL ROLE qg_spare; SELECT 1; COMMIT', rule: R.privilege, trick: 'SET LOCAL ROLE inside a transaction', via: ['simple', 'psql'] },
  { id: 'pg-set-session-authorization', sql: 'SET SESSION AUTHORIZATION qg_spare', rule: R.privilege, trick: 'SET SESSION AUTHORIZATION' },
  { id: 'pg-set-config-role', sql: "SELECT set_config('role', 'qg_spare', false)", rule: R.privilege, trick: "set_config('role', ...)" },
  { id: 'pg-set-config-role-upper', sql: "select PG_CATALOG.SET_CONFIG('ROLE', 'qg_spare', false)", rule: R.privilege, trick: 'set_config qualified, upper case' },
  // Dangerous functions.
  { id: 'pg-read-file', sql: "SELECT pg_read_file('/etc/hostname'), nextval('qg_canary')", rule: R.fileAccess, trick: 'pg_read_file (with a canary side effect)' },
  { id: 'pg-read-file-quoted', sql: "SELECT \"pg_read_file\"('/etc/hostname')", rule: R.fileAccess, trick: 'quoted function name' },
  { id: 'pg-read-binary-file-qualified', sql: "SELECT pg_catalog.pg_read_binary_file('/etc/hostname')", rule: R.fileAccess, trick: 'schema-qualified pg_read_binary_file' },
  { id: 'pg-ls-dir', sql: "SELECT * FROM pg_ls_dir('.')", rule: R.fileAccess, trick: 'pg_ls_dir in FROM' },
  { id: 'pg-stat-file-subquery', sql: "SELECT (SELECT size FROM pg_stat_file('/etc/hostname')) AS s", rule: R.fileAccess, trick: 'file function in a scalar subquery' },
  { id: 'pg-lo-export', sql: "SELECT lo_export(lo_from_bytea(0, 'pwned'), '{dir}/lo-export')", rule: R.fileAccess, trick: 'lo_export writes a server file', writes: 'lo-export' },
  { id: 'pg-lo-import', sql: "SELECT lo_import('/etc/hostname')", rule: R.fileAccess, trick: 'lo_import reads a server file into a large object' },
  // FunctionCall ('F') messages: no SQL text at all.
  { id: 'pg-fastpath-lo-import', sql: "lo_import('/etc/hostname') via FunctionCall", rule: R.fileAccess, trick: 'FunctionCall message', via: ['functionCall'], functionCall: { fn: 'lo_import(text)', args: ['/etc/hostname'] } },
  { id: 'pg-fastpath-read-file', sql: "pg_read_file('/etc/hostname') via FunctionCall", rule: R.fileAccess, trick: 'FunctionCall message', via: ['functionCall'], functionCall: { fn: 'pg_read_file(text)', args: ['/etc/hostname'] } },
  { id: 'pg-fastpath-set-config', sql: "set_config('role', 'qg_spare', false) via FunctionCall", rule: R.dynamicSql, trick: 'FunctionCall of set_config: its arguments are not SQL the gateway can read', via: ['functionCall'], functionCall: { fn: 'set_config(text,text,boolean)', args: ['role', 'qg_spare', 'false'] } },
  // The plain dangerous statements.
  { id: 'pg-truncate', sql: 'TRUNCATE qg_victim', rule: R.truncate, trick: 'plain' },
  { id: 'pg-truncate-many-cascade', sql: 'TRUNCATE TABLE qg_victim, qg_victim_log RESTART IDENTITY CASCADE', rule: R.truncate, trick: 'several tables, options' },
  { id: 'pg-drop-schema', sql: 'DROP SCHEMA qg_victim_schema CASCADE', rule: R.dropDatabase, trick: 'plain' },
  { id: 'pg-drop-database', sql: 'DROP DATABASE qg_victim_db', rule: R.dropDatabase, trick: 'plain' },
  { id: 'pg-grant', sql: 'GRANT ALL ON qg_victim TO PUBLIC', rule: R.privilege, trick: 'GRANT' },
  { id: 'pg-grant-role', sql: 'GRANT pg_read_server_files TO qg_spare', rule: R.privilege, trick: 'GRANT of a role' },
  { id: 'pg-revoke', sql: 'REVOKE ALL ON qg_victim FROM app', rule: R.privilege, trick: 'REVOKE' },
  { id: 'pg-alter-system', sql: "ALTER SYSTEM SET work_mem = '64MB'", rule: R.ddl, trick: 'ALTER SYSTEM writes postgresql.auto.conf' },
  { id: 'pg-create-role', sql: "CREATE ROLE qg_mallory SUPERUSER LOGIN PASSWORD 'x'", rule: R.privilege, trick: 'CREATE ROLE' },
  { id: 'pg-create-user', sql: 'CREATE USER qg_mallory', rule: R.privilege, trick: 'CREATE USER' },
  { id: 'pg-alter-role-superuser', sql: 'ALTER ROLE qg_spare SUPERUSER', rule: R.privilege, trick: 'ALTER ROLE' },
  { id: 'pg-delete-no-where', sql: 'DELETE FROM qg_victim', rule: R.noWhere, trick: 'plain' },
  { id: 'pg-update-no-where', sql: "UPDATE qg_victim SET v = 'pwned'", rule: R.noWhere, trick: 'plain' },
  { id: 'pg-delete-using-no-where', sql: 'DELETE FROM qg_victim USING qg_victim_log', rule: R.noWhere, trick: 'USING without WHERE' },
  { id: 'pg-explain-analyze-delete', sql: 'EXPLAIN ANALYZE DELETE FROM qg_victim', rule: R.noWhere, trick: 'EXPLAIN ANALYZE executes its statement' },
  { id: 'pg-explain-options-update', sql: "EXPLAIN (ANALYZE true, FORMAT JSON) UPDATE qg_victim SET v = 'pwned'", rule: R.noWhere, trick: 'EXPLAIN ANALYZE in option form' },
  { id: 'pg-drop-table', sql: 'DROP TABLE qg_victim', rule: R.ddl, trick: 'plain' },
  { id: 'pg-gexec', sql: "SELECT 'DROP DATABASE qg_victim_db' \\gexec", rule: R.dropDatabase, trick: "psql's \\gexec runs a query's output", via: ['psql'] },
];

export const MYSQL_ATTEMPTS: readonly MysqlAttempt[] = [
  // Several statements in one COM_QUERY.
  { id: 'my-multi-drop-database', sql: 'SELECT 1; DROP DATABASE qg_victim_db', rule: R.dropDatabase, trick: 'harmless statement first', via: ['query', 'cli'] },
  { id: 'my-multi-canary-truncate', sql: 'SELECT NEXTVAL(qg_canary); TRUNCATE qg_victim', rule: R.truncate, trick: 'an allowed statement with a side effect first: it must not run either', via: ['query', 'cli'] },
  { id: 'my-multi-txn-delete', sql: 'START TRANSACTION; DELETE FROM qg_victim; COMMIT', rule: R.noWhere, trick: 'wrapped in a transaction', via: ['query', 'cli'] },
  { id: 'my-multi-string-semicolon', sql: "SELECT 'a;b', \"c;d\"; DROP TABLE qg_victim", rule: R.ddl, trick: 'semicolons inside string literals', via: ['query', 'cli'] },
  { id: 'my-multi-backslash-quote', sql: "SELECT 'it\\'s'; DROP TABLE qg_victim", rule: R.ddl, trick: 'backslash-escaped quote before the split', via: ['query', 'cli'] },
  // Executable comments.
  { id: 'my-exec-comment-drop-database', sql: '/*! DROP DATABASE qg_victim_db */', rule: R.dropDatabase, trick: 'MySQL executable comment' },
  { id: 'my-exec-comment-versioned', sql: '/*!50000 DROP DATABASE qg_victim_db */', rule: R.dropDatabase, trick: 'versioned executable comment' },
  { id: 'my-exec-comment-mariadb', sql: '/*M! DROP DATABASE qg_victim_db */', rule: R.dropDatabase, trick: 'MariaDB executable comment' },
  { id: 'my-exec-comment-mariadb-versioned', sql: '/*M!100100 TRUNCATE qg_victim */', rule: R.truncate, trick: 'versioned MariaDB executable comment' },
  { id: 'my-exec-comment-semicolon', sql: 'SELECT 1 /*!; DROP TABLE qg_victim */', rule: R.ddl, trick: 'a semicolon inside an executable comment starts a new statement', via: ['query'] },
  { id: 'my-exec-comment-in-select', sql: 'SELECT 1 /*!50000 FROM qg_victim; TRUNCATE qg_victim */', rule: R.truncate, trick: 'executable comment completing a SELECT, then TRUNCATE', via: ['query'] },
  // Plain comments, whitespace, case.
  { id: 'my-block-comment-drop-database', sql: '/* harmless */ DROP DATABASE qg_victim_db', rule: R.dropDatabase, trick: 'leading block comment' },
  { id: 'my-dash-comment-drop-database', sql: '-- just a comment\nDROP DATABASE qg_victim_db', rule: R.dropDatabase, trick: 'leading -- comment, then a newline' },
  { id: 'my-hash-comment-truncate', sql: '# hash comment\nTRUNCATE qg_victim', rule: R.truncate, trick: 'leading # comment' },
  { id: 'my-case-tab-drop-database', sql: 'dRoP\tdAtAbAsE\n`qg_victim_db`', rule: R.dropDatabase, trick: 'mixed case, tab, backquoted identifier' },
  { id: 'my-drop-schema', sql: 'DROP SCHEMA IF EXISTS qg_victim_db', rule: R.dropDatabase, trick: 'SCHEMA is a synonym of DATABASE' },
  { id: 'my-truncate', sql: 'TRUNCATE TABLE app.qg_victim', rule: R.truncate, trick: 'plain, qualified' },
  // SQL-level PREPARE / EXECUTE.
  { id: 'my-sql-prepare-literal', sql: "PREPARE qg_s FROM 'DROP TABLE qg_victim'", rule: R.dynamicSql, trick: 'PREPARE from a literal', via: ['query', 'cli'] },
  { id: 'my-sql-prepare-variable', sql: "SET @q = CONCAT('TRUNC', 'ATE qg_victim'); PREPARE qg_s FROM @q; EXECUTE qg_s", rule: R.dynamicSql, trick: 'PREPARE from a computed variable', via: ['query', 'cli'] },
  { id: 'my-execute-immediate', sql: "EXECUTE IMMEDIATE 'TRUNCATE qg_victim'", rule: R.dynamicSql, trick: 'MariaDB EXECUTE IMMEDIATE of a literal', via: ['query', 'cli'] },
  { id: 'my-compound-statement', sql: 'BEGIN NOT ATOMIC TRUNCATE qg_victim; END', rule: R.dynamicSql, trick: 'MariaDB compound statement outside a program', via: ['query', 'cli'] },
  { id: 'my-create-procedure', sql: 'CREATE PROCEDURE qg_wipe() BEGIN TRUNCATE qg_victim; END', rule: R.dynamicSql, trick: 'a stored procedure that truncates', via: ['query', 'cli'] },
  { id: 'my-create-event', sql: 'CREATE EVENT qg_later ON SCHEDULE AT CURRENT_TIMESTAMP DO DELETE FROM qg_victim', rule: R.dynamicSql, trick: 'an event that deletes later', via: ['query', 'cli'] },
  // Server-side files.
  { id: 'my-into-outfile', sql: "SELECT * FROM qg_victim INTO OUTFILE '{dir}/outfile'", rule: R.fileAccess, trick: 'SELECT INTO OUTFILE', writes: 'outfile' },
  { id: 'my-into-dumpfile', sql: "SELECT 'x' INTO DUMPFILE '{dir}/dumpfile'", rule: R.fileAccess, trick: 'SELECT INTO DUMPFILE', writes: 'dumpfile' },
  { id: 'my-into-outfile-before-from', sql: "SELECT id, v INTO OUTFILE '{dir}/outfile2' FROM qg_victim", rule: R.fileAccess, trick: 'INTO OUTFILE before FROM', writes: 'outfile2' },
  { id: 'my-load-data-infile', sql: "LOAD DATA INFILE '{dir}/rows.csv' INTO TABLE qg_victim_log FIELDS TERMINATED BY ','", rule: R.fileAccess, trick: 'LOAD DATA INFILE' },
  { id: 'my-load-data-local', sql: "LOAD DATA LOCAL INFILE '/etc/hostname' INTO TABLE qg_victim_log", rule: 'local-infile', trick: 'LOAD DATA LOCAL INFILE (would read a file from the gateway host)', via: ['query', 'cli'], refusedByAdapter: { errno: 1148, message: 'LOAD DATA LOCAL INFILE is not allowed through querygate (rule "local-infile")' } },
  { id: 'my-load-file', sql: "SELECT LOAD_FILE('/etc/hostname'), NEXTVAL(qg_canary)", rule: R.fileAccess, trick: 'LOAD_FILE (with a canary side effect)' },
  { id: 'my-load-file-hex', sql: 'select load_file(0x2f6574632f686f73746e616d65)', rule: R.fileAccess, trick: 'hex-encoded path' },
  { id: 'my-load-file-in-where', sql: "SELECT id FROM qg_victim WHERE LOAD_FILE('/etc/hostname') IS NOT NULL", rule: R.fileAccess, trick: 'LOAD_FILE in WHERE' },
  { id: 'my-do-load-file', sql: "DO LOAD_FILE('/etc/hostname')", rule: R.fileAccess, trick: "MySQL's DO statement" },
  // Privileges and identity.
  { id: 'my-grant', sql: "GRANT ALL ON *.* TO 'qg_spare'@'%'", rule: R.privilege, trick: 'GRANT' },
  { id: 'my-revoke', sql: "REVOKE ALL PRIVILEGES ON app.* FROM 'qg_spare'@'%'", rule: R.privilege, trick: 'REVOKE' },
  { id: 'my-create-user', sql: "CREATE USER 'qg_mallory'@'%' IDENTIFIED BY 'x'", rule: R.privilege, trick: 'CREATE USER' },
  { id: 'my-create-role', sql: 'CREATE ROLE qg_mallory_role', rule: R.privilege, trick: 'CREATE ROLE' },
  { id: 'my-set-role', sql: 'SET ROLE qg_spare_role', rule: R.privilege, trick: 'SET ROLE' },
  { id: 'my-set-password', sql: "SET PASSWORD FOR 'qg_spare'@'%' = PASSWORD('pwned')", rule: R.privilege, trick: 'SET PASSWORD' },
  { id: 'my-alter-user', sql: "ALTER USER 'qg_spare'@'%' IDENTIFIED BY 'pwned'", rule: R.privilege, trick: 'ALTER USER' },
  // Unbounded writes and DDL.
  { id: 'my-delete-no-where', sql: 'DELETE FROM qg_victim', rule: R.noWhere, trick: 'plain' },
  { id: 'my-update-no-where', sql: "UPDATE qg_victim SET v = 'pwned'", rule: R.noWhere, trick: 'plain' },
  { id: 'my-execute-update-param', sql: 'UPDATE qg_victim SET v = ?', rule: R.noWhere, trick: 'a parameter instead of a literal', via: ['execute'] },
  { id: 'my-delete-limit', sql: 'DELETE FROM qg_victim ORDER BY id LIMIT 100', rule: R.noWhere, trick: 'LIMIT is not a WHERE' },
  { id: 'my-delete-multi-table', sql: 'DELETE qg_victim FROM qg_victim JOIN qg_victim_log ON 1 = 1', rule: R.noWhere, trick: 'multi-table DELETE, join condition only' },
  { id: 'my-analyze-delete', sql: 'ANALYZE DELETE FROM qg_victim', rule: R.noWhere, trick: "MariaDB's ANALYZE executes its statement" },
  { id: 'my-explain-analyze-delete', sql: 'EXPLAIN ANALYZE DELETE FROM qg_victim', rule: R.noWhere, trick: "MySQL 8's EXPLAIN ANALYZE executes its statement" },
  { id: 'my-set-statement-delete', sql: 'SET STATEMENT max_statement_time=100 FOR DELETE FROM qg_victim', rule: R.noWhere, trick: 'MariaDB SET STATEMENT ... FOR' },
  { id: 'my-create-table-select', sql: 'CREATE TABLE qg_stolen AS SELECT * FROM qg_victim', rule: R.ddl, trick: 'CREATE TABLE AS SELECT' },
  { id: 'my-drop-table', sql: 'DROP TABLE qg_victim', rule: R.ddl, trick: 'plain' },
  { id: 'my-rename-table', sql: 'RENAME TABLE qg_victim TO qg_gone', rule: R.ddl, trick: 'RENAME TABLE' },
];
