import type { ColumnRef, ObjectRef } from '@querygate/core';

/**
 * A case-insensitive glob: `*` any run of characters, `?` one. Identifiers compare without case
 * because the analysers and the databases do not agree on folding (PostgreSQL folds unquoted
 * names to lower case, MySQL keeps them), and a false match only masks more.
 */
export class Glob {
  private readonly re: RegExp | undefined;
  private readonly literal: string;
  readonly any: boolean;
  constructor(readonly text: string) {
    this.any = text === '*';
    const lower = text.toLowerCase();
    this.re = /[*?]/.test(text)
      ? new RegExp(`^${lower.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's')
      : undefined;
    this.literal = lower;
  }
  matches(value: string): boolean {
    if (this.any) return true;
    const v = value.toLowerCase();
    return this.re ? this.re.test(v) : v === this.literal;
  }
}

/** A source column a rule names: `schema.table.column` or `table.column` (any schema), each part a glob. */
export class ColumnPattern {
  readonly schema: Glob;
  readonly table: Glob;
  readonly column: Glob;
  constructor(readonly text: string) {
    const parts = text.split('.');
    if (parts.length < 2 || parts.length > 3 || parts.some((p) => p.length === 0)) {
      throw new Error(`"${text}" is not schema.table.column or table.column`);
    }
    this.schema = new Glob(parts.length === 3 ? parts[0]! : '*');
    this.table = new Glob(parts[parts.length - 2]!);
    this.column = new Glob(parts[parts.length - 1]!);
  }

  /**
   * A source the analyser left without a schema (resolved by search_path at run time) matches any
   * schema: the gateway cannot tell which one the database picks, and masking more is the safe side.
   */
  matchesTable(schema: string | undefined, table: string): boolean {
    return (schema === undefined || this.schema.matches(schema)) && this.table.matches(table);
  }

  /** `column: '*'` (a whole row) matches when the pattern names any column of that table. */
  matches(ref: ColumnRef): boolean {
    if (!this.matchesTable(ref.schema, ref.table)) return false;
    return ref.column === '*' || this.column.matches(ref.column);
  }
}

/**
 * A column-name pattern: `*ssn*`, `email`, or with table context `*.email`, `users.*`,
 * `app.users.email`. The last part matches column names; earlier parts, when not all `*`, also
 * constrain the source's table and schema (so they never match a bare output name).
 */
export class NamePattern {
  readonly column: Glob;
  private readonly table: Glob | undefined;
  private readonly schema: Glob | undefined;
  constructor(readonly text: string) {
    const parts = text.split('.');
    if (parts.length > 3 || parts.some((p) => p.length === 0)) throw new Error(`"${text}" is not a column name pattern`);
    this.column = new Glob(parts[parts.length - 1]!);
    const table = parts.length >= 2 ? new Glob(parts[parts.length - 2]!) : undefined;
    const schema = parts.length === 3 ? new Glob(parts[0]!) : undefined;
    this.table = table && !table.any ? table : undefined;
    this.schema = schema && !schema.any ? schema : undefined;
  }

  /** An output column's name as the client sees it. */
  matchesName(name: string): boolean {
    return this.table === undefined && this.schema === undefined && name.length > 0 && this.column.matches(name);
  }

  matchesSource(ref: ColumnRef): boolean {
    if (ref.column === '*') return false;
    if (this.table && !this.table.matches(ref.table)) return false;
    if (this.schema && ref.schema !== undefined && !this.schema.matches(ref.schema)) return false;
    return this.column.matches(ref.column);
  }
}

export function sameTable(a: { schema?: string; table: string }, b: { schema?: string; table: string }): boolean {
  if (a.table.toLowerCase() !== b.table.toLowerCase()) return false;
  return a.schema === undefined || b.schema === undefined || a.schema.toLowerCase() === b.schema.toLowerCase();
}

export function sameColumn(a: ColumnRef, b: ColumnRef): boolean {
  return sameTable(a, b) && a.column.toLowerCase() === b.column.toLowerCase();
}

export function relationKey(ref: ObjectRef): string {
  return ref.schema === undefined ? ref.name.toLowerCase() : `${ref.schema.toLowerCase()}.${ref.name.toLowerCase()}`;
}

export function columnText(ref: ColumnRef): string {
  return ref.schema === undefined ? `${ref.table}.${ref.column}` : `${ref.schema}.${ref.table}.${ref.column}`;
}
