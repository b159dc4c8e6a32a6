/** The class of a statement; policy matches on it. `unknown` is what the analyser could not parse. */
export type StatementKind =
  | 'select' | 'insert' | 'update' | 'delete' | 'merge'
  | 'ddl' | 'dcl' | 'tcl' | 'copy' | 'utility' | 'procedural' | 'unknown';

export const STATEMENT_KINDS: readonly StatementKind[] = [
  'select', 'insert', 'update', 'delete', 'merge', 'ddl', 'dcl', 'tcl', 'copy', 'utility', 'procedural', 'unknown',
];

/** A table, view or function named by a statement. `schema` is the MySQL database for MySQL. */
export interface ObjectRef {
  readonly schema?: string;
  readonly name: string;
}

/** A source column. `column` is `*` for every column of the table (whole-row references, `t.*`). */
export interface ColumnRef {
  readonly schema?: string;
  readonly table: string;
  readonly column: string;
}

export type RiskFlag = 'noWhere' | 'fileAccess' | 'privilegeChange' | 'dynamicSql' | 'unparsed';
export const RISK_FLAGS: readonly RiskFlag[] = ['noWhere', 'fileAccess', 'privilegeChange', 'dynamicSql', 'unparsed'];

/** Where one output column's values come from. */
export interface OutputColumnLineage {
  /** The name the client will see, when the analyser knows it. */
  readonly name?: string;
  /** Every source column that feeds this output, directly or through expressions. */
  readonly sources: readonly ColumnRef[];
  /** True when the output is a source column unchanged (masking can then type-match it). */
  readonly direct: boolean;
  /**
   * True for `*` / `t.*`: this entry stands for all columns of the `sources` tables, in order, so it
   * covers several result columns.
   */
  readonly expands?: boolean;
}

/** One column a write statement sets, and where the value written comes from. */
export interface ColumnAssignment {
  /** The column written (`column: '*'` when the statement does not name its target columns). */
  readonly target: ColumnRef;
  /** Every source column that feeds the value, directly or through expressions. */
  readonly sources: readonly ColumnRef[];
}

export interface Lineage {
  readonly outputs: readonly OutputColumnLineage[];
  /**
   * False when the analyser lost track (an unresolved function returning rows, dynamic SQL...).
   * Masking then applies its fallback for statements that touch sensitive tables.
   */
  readonly complete: boolean;
}

/**
 * ONE statement as the database will execute it. A message carrying `a; b` is two Statements.
 * Produced by each protocol package with its own dialect's parser; dialect-free after that.
 */
export interface Statement {
  /** The SQL of this statement alone, as the client sent it. */
  readonly text: string;
  readonly kind: StatementKind;
  /**
   * The specific statement, lower snake case: `select`, `create_table`, `drop_database`,
   * `truncate`, `alter_system`, `set_role`, `copy_to_program`, `call`, `do`... Policy matches on it.
   */
  readonly command: string;
  /** Stable hash of the statement with literals normalised away. */
  readonly fingerprint: string;
  /** The statement text with literals replaced by placeholders; what audit and traces record. */
  readonly normalized: string;
  readonly reads: readonly ObjectRef[];
  readonly writes: readonly ObjectRef[];
  /**
   * Functions called, schema-qualified when written so (`pg_read_file`, `dblink_exec`); unquoted
   * names folded to lower case as the database folds them.
   */
  readonly functions: readonly string[];
  readonly risks: ReadonlySet<RiskFlag>;
  readonly lineage: Lineage;
  /**
   * For UPDATE / INSERT ... SELECT: what each target column receives. Absent when the analyser
   * cannot tell (consumers then judge the written tables as a whole).
   */
  readonly assigned?: readonly ColumnAssignment[];
  /**
   * Statements nested inside this one that the database will also run (a DO body, a PREPARE's
   * statement, an executable comment's content). Policy judges them too.
   */
  readonly nested?: readonly Statement[];
}
