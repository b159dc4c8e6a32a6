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
  /**
   * Experimental. When set, the adapter decodes EVERY column of the first `observeLimit` rows of
   * this result set to text, AFTER applying `columns` (the values the client receives), and calls
   * it once per row, in order: NULL as null, binary-format values converted to their text form.
   * The gateway core sets it (session recording); a plan may carry it with no `columns`, and is
   * then still a plan. Must not be called for rows past `observeLimit`.
   */
  readonly observe?: RowObserver;
  /** Rows to hand to `observe` (from the first); 0 or absent with `observe` set means none. */
  readonly observeLimit?: number;
}

/** Sees one row as the client receives it, every value in text form. Must not keep the array. */
export type RowObserver = (row: readonly (string | null)[]) => void;
