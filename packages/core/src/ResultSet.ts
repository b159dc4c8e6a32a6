import type { ColumnRef, Statement } from './Statement';

/** One column of a result set as the database described it. */
export interface ResultColumn {
  readonly name: string;
  /**
   * The table column the value is read from unchanged, when the database says so (PostgreSQL
   * table OID + attribute number resolved through the catalog; MySQL org_table/org_name).
   */
  readonly origin?: ColumnRef;
  /** Database type name, lower case (`text`, `int4`, `varchar`, `timestamp`...). */
  readonly type: string;
  /** PostgreSQL type OID or MySQL column type code. */
  readonly typeId: number;
  readonly format: 'text' | 'binary';
}

export interface ResultSet {
  readonly statement: Statement;
  readonly columns: readonly ResultColumn[];
  /** `rows` for query results, `copy` for COPY ... TO STDOUT data. */
  readonly source: 'rows' | 'copy' | 'returning';
}

/**
 * Rewrites one value. Receives the value in its text form and returns the text form to send
 * (adapters convert binary-format values both ways), or null to send SQL NULL. Never called for NULL.
 */
export type ValueMask = (value: string) => string | null;

/**
 * What a result hook returns once per result set: which columns to rewrite and how. Columns not
 * named pass through as the bytes that arrived; a result set without a plan is never decoded.
 */
export interface RowTransform {
  readonly columns: ReadonlyMap<number, ValueMask>;
  /** Label for audit (`masking`); the audit records column names, never values. */
  readonly label?: string;
}
