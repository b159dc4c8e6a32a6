// Names and types for the columns of COPY ... TO STDOUT, which the server sends without any column
// metadata (CopyOutResponse has only a count). A table's columns come from the catalog; a query's
// from the analyser's lineage, with `*` expanded through the catalog.
import type { ColumnRef, ObjectRef, OutputColumnLineage, ResultColumn, Statement } from '@querygate/core';
import type { CopyStatement } from '../analysis/copyStatement';
import { TypeOid } from '../codec/typeNames';
import type { RelationColumn, RelationColumns } from './Catalog';

export interface CopyColumns {
  readonly columns: readonly ResultColumn[];
  /**
   * Why `columns` may not be the COPY's own, value for value (a relation the catalog does not know
   * or cannot pick, a `*` over something other than tables, a count that differs from the server's);
   * undefined when they are. A plan that masks anything must then not be applied.
   */
  readonly problem: string | undefined;
}

/** The relation names whose columns `copyColumns` needs. */
export function copyRelationNames(copy: CopyStatement | undefined, statement: Statement): string[] {
  if (copy?.relation !== undefined) return [copy.relation.name];
  const names = new Set<string>();
  for (const o of statement.lineage.outputs) {
    if (o.expands === true || (o.direct && o.sources.length === 1)) for (const s of o.sources) names.add(s.table);
  }
  return [...names];
}

/**
 * The COPY's columns. `relations` is what the catalog listed for `copyRelationNames` (undefined
 * when it could not be asked); `count` is the CopyOutResponse's column count.
 */
export function copyColumns(copy: CopyStatement | undefined, statement: Statement, relations: readonly RelationColumns[] | undefined, count: number): CopyColumns {
  const problems: string[] = [];
  const columns: ResultColumn[] = [];
  const lookUp = (ref: ObjectRef): Resolved | string => (relations === undefined ? 'the catalog could not be read' : resolve(ref, relations));
  if (copy?.relation !== undefined) {
    const relation = copy.relation;
    const found = lookUp(relation);
    if (typeof found === 'string') {
      problems.push(found);
      // Without the catalog, the statement's own column list is all there is.
      for (const o of statement.lineage.outputs) columns.push(fromLineage(o));
    } else {
      const chosen = copy.columns.length > 0
        ? copy.columns.map((name) => found.columns.find((c) => c.name === name) ?? name)
        : found.columns.filter((c) => !c.generated);
      for (const c of chosen) {
        if (typeof c === 'string') {
          problems.push(`column "${c}" is not in ${relationText(relation)}`);
          columns.push(textColumn(c, tableColumn(relation, found.schema, c)));
        } else {
          columns.push(catalogColumn(c, tableColumn(relation, found.schema, c.name)));
        }
      }
    }
  } else {
    if (!statement.lineage.complete) problems.push('the analyser could not follow every output column of the query');
    for (const o of statement.lineage.outputs) {
      if (o.expands === true) {
        const tables = o.sources.filter((s) => s.column === '*');
        if (tables.length === 0 || tables.length !== o.sources.length) {
          problems.push('a * expands something other than tables');
          columns.push(fromLineage(o));
          continue;
        }
        for (const t of tables) {
          const relation: ObjectRef = t.schema === undefined ? { name: t.table } : { schema: t.schema, name: t.table };
          const found = lookUp(relation);
          if (typeof found === 'string') {
            problems.push(found);
            columns.push(textColumn('?column?', o.direct ? t : undefined));
            continue;
          }
          // `SELECT *` includes generated columns (only COPY table TO without a list leaves them out).
          for (const c of found.columns) {
            columns.push(o.direct ? catalogColumn(c, tableColumn(relation, found.schema, c.name)) : catalogColumn(c, undefined, c.name));
          }
        }
        continue;
      }
      const origin = originOf(o);
      if (origin === undefined) { columns.push(fromLineage(o)); continue; }
      const relation: ObjectRef = origin.schema === undefined ? { name: origin.table } : { schema: origin.schema, name: origin.table };
      const found = lookUp(relation);
      const c = typeof found === 'string' ? undefined : found.columns.find((x) => x.name === origin.column);
      // Only the type is looked up here: an origin the catalog cannot place keeps the analyser's.
      columns.push(c === undefined || typeof found === 'string'
        ? fromLineage(o)
        : catalogColumn(c, tableColumn(relation, found.schema, c.name), o.name));
    }
  }
  if (columns.length !== count) problems.push(`the server sends ${count} columns and the gateway resolved ${columns.length}`);
  return { columns, problem: problems.length === 0 ? undefined : [...new Set(problems)].join('; ') };
}

interface Resolved {
  /** Undefined when several schemas hold the name with identical columns. */
  readonly schema: string | undefined;
  readonly columns: readonly RelationColumn[];
}

/**
 * One relation by name. An unqualified name is resolved by the session's search_path, which the
 * gateway does not know: several candidates are fine only when they all have the same columns.
 */
function resolve(ref: ObjectRef, relations: readonly RelationColumns[]): Resolved | string {
  const schema = ref.schema;
  const candidates = relations.filter((r) => r.name === ref.name && (schema === undefined
    || r.schema === schema
    // pg_temp names the session's own temporary schema, pg_temp_<n> in the catalog.
    || (schema === 'pg_temp' && r.schema.startsWith('pg_temp_'))));
  if (candidates.length === 0) return `${relationText(ref)} is not in the catalog`;
  if (candidates.length === 1) return { schema: candidates[0]!.schema, columns: candidates[0]!.columns };
  const first = candidates[0]!;
  const same = candidates.every((c) => c.columns.length === first.columns.length
    && c.columns.every((col, i) => col.name === first.columns[i]!.name && col.typeId === first.columns[i]!.typeId && col.generated === first.columns[i]!.generated));
  if (same) return { schema: undefined, columns: first.columns };
  return `${relationText(ref)} exists in schemas ${candidates.map((c) => c.schema).join(', ')} with different columns, and the session's search_path is not known`;
}

function relationText(ref: ObjectRef): string {
  return ref.schema === undefined ? `relation "${ref.name}"` : `relation "${ref.schema}.${ref.name}"`;
}

function tableColumn(relation: ObjectRef, schema: string | undefined, column: string): ColumnRef {
  const s = schema ?? relation.schema;
  return s === undefined ? { table: relation.name, column } : { schema: s, table: relation.name, column };
}

function catalogColumn(c: RelationColumn, origin: ColumnRef | undefined, name: string = c.name): ResultColumn {
  return origin
    ? { name, origin, type: c.type, typeId: c.typeId, format: 'text' }
    : { name, type: c.type, typeId: c.typeId, format: 'text' };
}

/** The one source a lineage entry passes unchanged, if it does. */
function originOf(o: OutputColumnLineage): ColumnRef | undefined {
  const s = o.direct && o.sources.length === 1 ? o.sources[0] : undefined;
  return s !== undefined && s.column !== '*' ? s : undefined;
}

/**
 * A column from lineage alone, typed text: COPY data are text whatever the type, and a computed
 * column's real type is not known without asking the server to describe the query.
 */
function fromLineage(o: OutputColumnLineage): ResultColumn {
  const origin = o.direct && o.sources.length === 1 ? o.sources[0] : undefined;
  return textColumn(o.name ?? '?column?', origin);
}

function textColumn(name: string, origin: ColumnRef | undefined): ResultColumn {
  return origin
    ? { name, origin, type: 'text', typeId: TypeOid.text, format: 'text' }
    : { name, type: 'text', typeId: TypeOid.text, format: 'text' };
}
