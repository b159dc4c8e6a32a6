import type { ColumnRef, ResultColumn, UpstreamConfig } from '@querygate/core';
import type { FieldDescription } from '../codec/messages';
import { builtinTypeName } from '../codec/typeNames';
import { CatalogConnection } from './CatalogConnection';

/**
 * Names what a RowDescription only numbers: the origin (schema.table.column) of each column from
 * its table OID and attribute number, and type names of non-built-in types. One side connection
 * per database (OIDs are per database), opened lazily; answers cached until a DDL statement
 * completes in that database.
 */
export class Catalog {
  private readonly connections = new Map<string, CatalogConnection>();
  private readonly origins = new Map<string, Map<number, ColumnRef | null>>();
  private readonly types = new Map<string, Map<number, string>>();
  private readonly functions = new Map<string, Map<number, string>>();
  /** Resolved columns by the exact bytes of a RowDescription body: a repeated result shape costs one look-up. */
  private readonly described = new Map<string, Map<string, ResultColumn[]>>();

  constructor(private readonly config: UpstreamConfig, private readonly listener: string) {}

  /** Result columns for a RowDescription: synchronous when every answer is cached. */
  columns(database: string, fields: readonly FieldDescription[]): ResultColumn[] | Promise<ResultColumn[]> {
    const origins = this.cache(this.origins, database);
    const types = this.cache(this.types, database);
    const missingOrigins: FieldDescription[] = [];
    const missingTypes = new Set<number>();
    for (const f of fields) {
      if (f.tableOid !== 0 && f.columnNumber > 0 && !origins.has(originKey(f.tableOid, f.columnNumber))) missingOrigins.push(f);
      if (builtinTypeName(f.typeOid) === undefined && !types.has(f.typeOid)) missingTypes.add(f.typeOid);
    }
    if (missingOrigins.length === 0 && missingTypes.size === 0) return this.build(fields, origins, types);
    return this.lookUp(database, missingOrigins, [...missingTypes]).then(() => this.build(fields, origins, types));
  }

  /**
   * `columns` for a RowDescription still in its wire form: the same body bytes (a prepared statement
   * run again, the same query shape) give the same columns until the catalog is invalidated, so the
   * message is decoded only the first time.
   */
  columnsOf(database: string, buf: Buffer, bodyStart: number, end: number, decode: () => readonly FieldDescription[]): ResultColumn[] | Promise<ResultColumn[]> {
    let byShape = this.described.get(database);
    if (!byShape) { byShape = new Map(); this.described.set(database, byShape); }
    const key = buf.toString('latin1', bodyStart, end);
    const known = byShape.get(key);
    if (known !== undefined) return known;
    const columns = this.columns(database, decode());
    const remember = (c: ResultColumn[]): ResultColumn[] => {
      // Bounded: a workload of ever-new shapes (ad-hoc column aliases) must not grow it forever.
      if (byShape.size >= MAX_SHAPES) byShape.clear();
      if (this.described.get(database) === byShape) byShape.set(key, c);
      return c;
    };
    return columns instanceof Promise ? columns.then(remember) : remember(columns);
  }

  /** Name of a function by OID (FunctionCall messages carry only the OID). */
  async functionName(database: string, oid: number): Promise<string> {
    const names = this.cache(this.functions, database);
    const known = names.get(oid);
    if (known !== undefined) return known;
    const rows = await this.connection(database).query(
      `SELECT n.nspname, p.proname FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace WHERE p.oid = ${oid >>> 0}`,
    );
    const row = rows[0];
    const name = row ? (row[0] === 'pg_catalog' ? row[1]! : `${row[0]}.${row[1]}`) : `oid:${oid}`;
    names.set(oid, name);
    return name;
  }

  /** One query over `database`'s side connection, for other catalog readers (relation snapshots). */
  query(database: string, sql: string): Promise<(string | null)[][]> {
    return this.connection(database).query(sql);
  }

  /**
   * Every relation named one of `names`, in whichever schema (the caller cannot know the session's
   * search_path, so it gets all candidates), with its live columns in attnum order. Asked afresh
   * each time: COPY, its one user, is rare, and a stale answer would mislabel columns.
   */
  async relationColumns(database: string, names: readonly string[]): Promise<RelationColumns[]> {
    if (names.length === 0) return [];
    const list = [...new Set(names)].map(sqlLiteral).join(', ');
    const rows = await this.connection(database).query(
      'SELECT n.nspname, c.relname, a.attname, a.atttypid, t.typname, a.attgenerated <> \'\' ' +
      'FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid ' +
      'JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace JOIN pg_catalog.pg_type t ON t.oid = a.atttypid ' +
      `WHERE c.relname IN (${list}) AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 AND NOT a.attisdropped ` +
      'ORDER BY n.nspname, c.relname, a.attnum',
    );
    const relations = new Map<string, { schema: string; name: string; columns: RelationColumn[] }>();
    for (const [schema, relation, column, typeOid, typeName, generated] of rows) {
      if (schema === null || relation === null || column === null) continue;
      const key = `${schema}\u0000${relation}`;
      let r = relations.get(key);
      if (!r) { r = { schema, name: relation, columns: [] }; relations.set(key, r); }
      const typeId = Number(typeOid);
      r.columns.push({ name: column, type: builtinTypeName(typeId) ?? typeName ?? `oid:${typeId}`, typeId, generated: generated === 't' });
    }
    return [...relations.values()];
  }

  invalidate(database: string): void {
    this.origins.delete(database);
    this.types.delete(database);
    this.functions.delete(database);
    this.described.delete(database);
  }

  close(): void {
    for (const c of this.connections.values()) c.close();
    this.connections.clear();
  }

  private build(fields: readonly FieldDescription[], origins: Map<number, ColumnRef | null>, types: Map<number, string>): ResultColumn[] {
    return fields.map((f) => {
      const origin = f.tableOid !== 0 && f.columnNumber > 0 ? origins.get(originKey(f.tableOid, f.columnNumber)) ?? undefined : undefined;
      const type = builtinTypeName(f.typeOid) ?? types.get(f.typeOid) ?? `oid:${f.typeOid}`;
      const column: ResultColumn = origin
        ? { name: f.name, origin, type, typeId: f.typeOid, format: f.format === 1 ? 'binary' : 'text' }
        : { name: f.name, type, typeId: f.typeOid, format: f.format === 1 ? 'binary' : 'text' };
      return column;
    });
  }

  private async lookUp(database: string, fields: readonly FieldDescription[], typeOids: readonly number[]): Promise<void> {
    const connection = this.connection(database);
    const origins = this.cache(this.origins, database);
    const types = this.cache(this.types, database);
    if (fields.length > 0) {
      const pairs = [...new Set(fields.map((f) => `(${f.tableOid >>> 0}::oid, ${f.columnNumber | 0}::int2)`))].join(', ');
      const rows = await connection.query(
        'SELECT c.oid, a.attnum, n.nspname, c.relname, a.attname FROM pg_catalog.pg_attribute a ' +
        'JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace ' +
        `WHERE (a.attrelid, a.attnum) IN (${pairs})`,
      );
      for (const f of fields) origins.set(originKey(f.tableOid, f.columnNumber), null);
      for (const [oid, attnum, schema, table, column] of rows) {
        origins.set(originKey(Number(oid), Number(attnum)), { schema: schema!, table: table!, column: column! });
      }
    }
    if (typeOids.length > 0) {
      const rows = await connection.query(`SELECT oid, typname FROM pg_catalog.pg_type WHERE oid IN (${typeOids.map((o) => o >>> 0).join(', ')})`);
      for (const [oid, name] of rows) types.set(Number(oid), name!);
    }
  }

  private connection(database: string): CatalogConnection {
    let c = this.connections.get(database);
    if (!c) {
      c = new CatalogConnection(this.config, this.listener, database);
      this.connections.set(database, c);
    }
    return c;
  }

  private cache<V>(all: Map<string, Map<number, V>>, database: string): Map<number, V> {
    let m = all.get(database);
    if (!m) { m = new Map(); all.set(database, m); }
    return m;
  }
}

const MAX_SHAPES = 1024;

/** Table OID and attribute number in one number key (attnum < 2^15). */
function originKey(tableOid: number, columnNumber: number): number {
  return (tableOid >>> 0) * 32768 + columnNumber;
}

/** One column of a relation, as `relationColumns` lists it. */
export interface RelationColumn {
  readonly name: string;
  readonly type: string;
  readonly typeId: number;
  /** A generated column: `COPY table TO` without a column list leaves it out. */
  readonly generated: boolean;
}

export interface RelationColumns {
  readonly schema: string;
  readonly name: string;
  readonly columns: readonly RelationColumn[];
}

/** A string literal that means the same whatever standard_conforming_strings says. */
function sqlLiteral(s: string): string {
  return `E'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}
