import type { ColumnAssignment, ColumnRef, Lineage, OutputColumnLineage } from '@querygate/core';
import type {
  Alias, ColumnRef as AstColumnRef, CommonTableExpr, CopyStmt, DeleteStmt, InsertStmt, JoinExpr, MergeStmt,
  MergeWhenClause, Node, RangeFunction, RangeSubselect, RangeVar, ResTarget, SelectStmt, SubLink, UpdateStmt,
  WithClause,
} from 'libpg-query';
import { bodyOf, isObject, listItems, namesOf, stringOf, tagOf } from './ast';

/** A FROM item as the resolver sees it. */
interface Entry {
  readonly refname: string;
  /** A base table: its columns are unknown (no catalog), any name may be one of them. */
  readonly table?: { readonly schema?: string; readonly name: string };
  /** `FROM t AS x(a, b)`: these names stand for unknown columns of the table. */
  readonly renamed?: readonly string[];
  /** Sources written into the table by this statement (INSERT/UPDATE/MERGE RETURNING). */
  readonly extraAll?: readonly ColumnRef[];
  readonly extraByColumn?: ReadonlyMap<string, readonly ColumnRef[]>;
  /** A subquery, CTE or VALUES: its output columns are known. */
  readonly columns?: readonly OutputColumnLineage[];
  /** A function or table function: any column comes from these sources (its arguments). */
  readonly opaque?: readonly ColumnRef[];
  /** A join with an alias: its columns are those of these entries. */
  readonly children?: readonly Entry[];
}

interface Level {
  readonly entries: Entry[];
  readonly parent: Level | undefined;
  readonly ctes: ReadonlyMap<string, readonly OutputColumnLineage[]>;
}

interface Resolved { readonly sources: ColumnRef[]; readonly direct: boolean }

const NO_CTES: ReadonlyMap<string, readonly OutputColumnLineage[]> = new Map();
const MAX_RECURSIVE_ROUNDS = 8;

function columnKey(c: ColumnRef): string {
  return `${c.schema ?? ''}\u0000${c.table}\u0000${c.column}`;
}

function union(...lists: ReadonlyArray<readonly ColumnRef[]>): ColumnRef[] {
  const seen = new Map<string, ColumnRef>();
  for (const list of lists) for (const c of list) seen.set(columnKey(c), c);
  return [...seen.values()];
}

function tableColumn(table: { schema?: string; name: string }, column: string): ColumnRef {
  return table.schema === undefined ? { table: table.name, column } : { schema: table.schema, table: table.name, column };
}

function aliasNames(alias: Alias | undefined): string[] {
  return namesOf(alias?.colnames);
}

function rename(columns: readonly OutputColumnLineage[], names: readonly string[]): OutputColumnLineage[] {
  if (names.length === 0) return [...columns];
  return columns.map((c, i) => (i < names.length && c.expands !== true ? { ...c, name: names[i] } : c));
}

/**
 * Resolves where each output column of a statement comes from, without the catalog: table aliases to
 * tables, through expressions, subqueries, CTEs, set operations and derived tables. Where it cannot be
 * precise it over-approximates (an unqualified column in a multi-table FROM is attributed to every
 * table that may hold it) and where it loses track it says so (`complete: false`).
 */
export class LineageResolver {
  private complete = true;

  /** Lineage of the rows a top-level statement returns (empty for statements returning none). */
  static of(stmt: Node): Lineage {
    const resolver = new LineageResolver();
    const tag = tagOf(stmt);
    let outputs: OutputColumnLineage[] = [];
    if (tag === 'SelectStmt') {
      const select = bodyOf<SelectStmt>(stmt, tag);
      if (select !== undefined && select.intoClause === undefined) outputs = resolver.select(select, undefined, NO_CTES);
    } else if (tag === 'InsertStmt' || tag === 'UpdateStmt' || tag === 'DeleteStmt' || tag === 'MergeStmt') {
      outputs = resolver.statement(stmt, undefined, NO_CTES);
    } else if (tag === 'CopyStmt') {
      const copy = bodyOf<CopyStmt>(stmt, tag);
      if (copy !== undefined && copy.is_from !== true) outputs = resolver.copy(copy);
    }
    return { outputs, complete: resolver.complete };
  }

  /**
   * What an UPDATE's SET list or an INSERT ... SELECT / VALUES writes into each target column; the
   * target is `*` when an INSERT names no columns (or its rows cannot be paired with them).
   * Undefined for other statements.
   */
  static assignments(stmt: Node): ColumnAssignment[] | undefined {
    const resolver = new LineageResolver();
    const tag = tagOf(stmt);
    if (tag === 'UpdateStmt') {
      const update = bodyOf<UpdateStmt>(stmt, tag);
      if (update?.relation === undefined) return undefined;
      const ctes = update.withClause === undefined ? NO_CTES : resolver.withClause(update.withClause, undefined, NO_CTES);
      const from: Level = { entries: [], parent: undefined, ctes };
      resolver.dmlTarget(update.relation, from, [], new Map());
      for (const item of update.fromClause ?? []) resolver.fromItem(item, from, from.entries);
      const table = resolver.tableOf(update.relation);
      const out: ColumnAssignment[] = [];
      for (const item of update.targetList ?? []) {
        const target = bodyOf<ResTarget>(item, 'ResTarget');
        if (target?.name === undefined || target.val === undefined) continue;
        out.push({ target: tableColumn(table, target.name), sources: resolver.expression(target.val, from).sources });
      }
      return out;
    }
    if (tag === 'InsertStmt') {
      const insert = bodyOf<InsertStmt>(stmt, tag);
      if (insert?.relation === undefined || insert.selectStmt === undefined) return undefined;
      const ctes = insert.withClause === undefined ? NO_CTES : resolver.withClause(insert.withClause, undefined, NO_CTES);
      const values = resolver.statement(insert.selectStmt, undefined, ctes);
      const cols = (insert.cols ?? []).map((c) => bodyOf<ResTarget>(c, 'ResTarget')?.name ?? '');
      const table = resolver.tableOf(insert.relation);
      if (cols.length > 0 && cols.length === values.length && values.every((v) => v.expands !== true)) {
        return cols.map((c, i) => ({ target: tableColumn(table, c), sources: values[i]!.sources }));
      }
      return [{ target: tableColumn(table, '*'), sources: union(...values.map((v) => v.sources)) }];
    }
    return undefined;
  }

  private copy(copy: CopyStmt): OutputColumnLineage[] {
    if (copy.query !== undefined) return this.statement(copy.query, undefined, NO_CTES);
    if (copy.relation === undefined) return [];
    const table = this.tableOf(copy.relation);
    const cols = namesOf(copy.attlist);
    if (cols.length === 0) return [{ sources: [tableColumn(table, '*')], direct: true, expands: true }];
    return cols.map((c) => ({ name: c, sources: [tableColumn(table, c)], direct: true }));
  }

  /** Output columns of a SELECT, or of a DML statement's RETURNING list. */
  private statement(node: Node, parent: Level | undefined, ctes: ReadonlyMap<string, readonly OutputColumnLineage[]>): OutputColumnLineage[] {
    const tag = tagOf(node);
    switch (tag) {
      case 'SelectStmt': return this.select(bodyOf<SelectStmt>(node, tag) ?? {}, parent, ctes);
      case 'InsertStmt': return this.insert(bodyOf<InsertStmt>(node, tag) ?? {}, parent, ctes);
      case 'UpdateStmt': return this.update(bodyOf<UpdateStmt>(node, tag) ?? {}, parent, ctes);
      case 'DeleteStmt': return this.delete(bodyOf<DeleteStmt>(node, tag) ?? {}, parent, ctes);
      case 'MergeStmt': return this.merge(bodyOf<MergeStmt>(node, tag) ?? {}, parent, ctes);
      default:
        this.complete = false;
        return [];
    }
  }

  private select(stmt: SelectStmt, parent: Level | undefined, outerCtes: ReadonlyMap<string, readonly OutputColumnLineage[]>): OutputColumnLineage[] {
    const ctes = stmt.withClause === undefined ? outerCtes : this.withClause(stmt.withClause, parent, outerCtes);
    if (stmt.op !== undefined && stmt.op !== 'SETOP_NONE') {
      return this.setOperation(this.select(stmt.larg ?? {}, parent, ctes), this.select(stmt.rarg ?? {}, parent, ctes));
    }
    const level: Level = { entries: [], parent, ctes };
    if (stmt.valuesLists !== undefined) return this.values(stmt.valuesLists, level);
    for (const item of stmt.fromClause ?? []) this.fromItem(item, level, level.entries);
    return this.targets(stmt.targetList ?? [], level);
  }

  private values(rows: readonly Node[], level: Level): OutputColumnLineage[] {
    const columns: ColumnRef[][] = [];
    for (const row of rows) {
      listItems(row).forEach((expr, i) => {
        columns[i] = union(columns[i] ?? [], this.expression(expr, level).sources);
      });
    }
    return columns.map((sources, i) => ({ name: `column${i + 1}`, sources, direct: false }));
  }

  private targets(list: readonly Node[], level: Level): OutputColumnLineage[] {
    const outputs: OutputColumnLineage[] = [];
    for (const item of list) {
      const target = bodyOf<ResTarget>(item, 'ResTarget');
      if (target?.val === undefined) continue;
      const ref = bodyOf<AstColumnRef>(target.val, 'ColumnRef');
      if (ref !== undefined && tagOf(ref.fields?.[ref.fields.length - 1]) === 'A_Star') {
        outputs.push(...this.star(ref.fields ?? [], level));
        continue;
      }
      const resolved = this.expression(target.val, level);
      outputs.push({
        name: target.name ?? figureColname(target.val) ?? '?column?',
        sources: resolved.sources,
        direct: ref !== undefined && resolved.direct && resolved.sources.length > 0,
      });
    }
    return outputs;
  }

  private setOperation(left: OutputColumnLineage[], right: OutputColumnLineage[]): OutputColumnLineage[] {
    const aligned = left.length === right.length && left.every((l, i) => (l.expands === true) === (right[i].expands === true));
    if (aligned) {
      return left.map((l, i) => {
        const merged: OutputColumnLineage = {
          name: l.name, sources: union(l.sources, right[i].sources), direct: l.direct && right[i].direct,
        };
        return l.expands === true ? { ...merged, expands: true } : merged;
      });
    }
    // A star on one side and a column list on the other: positions cannot be matched without the catalog.
    this.complete = false;
    return [{ sources: union(...left.map((c) => c.sources), ...right.map((c) => c.sources)), direct: false, expands: true }];
  }

  private withClause(w: WithClause, parent: Level | undefined, outer: ReadonlyMap<string, readonly OutputColumnLineage[]>): ReadonlyMap<string, readonly OutputColumnLineage[]> {
    const ctes = new Map(outer);
    for (const item of w.ctes ?? []) {
      const cte = bodyOf<CommonTableExpr>(item, 'CommonTableExpr');
      if (cte?.ctename === undefined || cte.ctequery === undefined) continue;
      const names = namesOf(cte.aliascolnames);
      const select = bodyOf<SelectStmt>(cte.ctequery, 'SelectStmt');
      if (w.recursive === true && select !== undefined && select.op !== undefined && select.op !== 'SETOP_NONE') {
        ctes.set(cte.ctename, rename(this.recursive(cte.ctename, select, names, parent, ctes), names));
      } else {
        ctes.set(cte.ctename, rename(this.statement(cte.ctequery, parent, ctes), names));
      }
    }
    return ctes;
  }

  /** A recursive CTE: start from the non-recursive term and re-resolve until the sources stop growing. */
  private recursive(name: string, select: SelectStmt, names: readonly string[], parent: Level | undefined,
    ctes: Map<string, readonly OutputColumnLineage[]>): OutputColumnLineage[] {
    let current = rename(this.select(select.larg ?? {}, parent, ctes), names);
    for (let round = 0; round < MAX_RECURSIVE_ROUNDS; round++) {
      ctes.set(name, current);
      const next = rename(this.select(select, parent, ctes), names);
      const size = (cols: readonly OutputColumnLineage[]): number => cols.reduce((n, c) => n + c.sources.length, 0);
      if (size(next) === size(current) && next.length === current.length) return next;
      current = next;
    }
    this.complete = false;
    return current;
  }

  private insert(stmt: InsertStmt, parent: Level | undefined, outer: ReadonlyMap<string, readonly OutputColumnLineage[]>): OutputColumnLineage[] {
    const ctes = stmt.withClause === undefined ? outer : this.withClause(stmt.withClause, parent, outer);
    const returning = stmt.returningClause?.exprs;
    if (returning === undefined || stmt.relation === undefined) return [];
    const values = stmt.selectStmt === undefined ? [] : this.statement(stmt.selectStmt, parent, ctes);
    const cols = (stmt.cols ?? []).map((c) => bodyOf<ResTarget>(c, 'ResTarget')?.name ?? '');
    const byColumn = new Map<string, ColumnRef[]>();
    let extraAll: ColumnRef[] = [];
    if (cols.length > 0 && values.every((v) => v.expands !== true)) {
      cols.forEach((c, i) => byColumn.set(c, [...(values[i]?.sources ?? [])]));
    } else {
      extraAll = union(...values.map((v) => v.sources));
    }
    const level: Level = { entries: [], parent, ctes };
    this.dmlTarget(stmt.relation, level, extraAll, byColumn);
    return this.targets(returning, level);
  }

  private update(stmt: UpdateStmt, parent: Level | undefined, outer: ReadonlyMap<string, readonly OutputColumnLineage[]>): OutputColumnLineage[] {
    const ctes = stmt.withClause === undefined ? outer : this.withClause(stmt.withClause, parent, outer);
    const returning = stmt.returningClause?.exprs;
    if (returning === undefined || stmt.relation === undefined) return [];
    const from: Level = { entries: [], parent, ctes };
    this.dmlTarget(stmt.relation, from, [], new Map());
    for (const item of stmt.fromClause ?? []) this.fromItem(item, from, from.entries);
    const byColumn = new Map<string, ColumnRef[]>();
    for (const item of stmt.targetList ?? []) {
      const target = bodyOf<ResTarget>(item, 'ResTarget');
      if (target?.name === undefined || target.val === undefined) continue;
      byColumn.set(target.name, union(byColumn.get(target.name) ?? [], this.expression(target.val, from).sources));
    }
    const level: Level = { entries: [], parent, ctes };
    this.dmlTarget(stmt.relation, level, [], byColumn);
    for (const item of stmt.fromClause ?? []) this.fromItem(item, level, level.entries);
    return this.targets(returning, level);
  }

  private delete(stmt: DeleteStmt, parent: Level | undefined, outer: ReadonlyMap<string, readonly OutputColumnLineage[]>): OutputColumnLineage[] {
    const ctes = stmt.withClause === undefined ? outer : this.withClause(stmt.withClause, parent, outer);
    const returning = stmt.returningClause?.exprs;
    if (returning === undefined || stmt.relation === undefined) return [];
    const level: Level = { entries: [], parent, ctes };
    this.dmlTarget(stmt.relation, level, [], new Map());
    for (const item of stmt.usingClause ?? []) this.fromItem(item, level, level.entries);
    return this.targets(returning, level);
  }

  private merge(stmt: MergeStmt, parent: Level | undefined, outer: ReadonlyMap<string, readonly OutputColumnLineage[]>): OutputColumnLineage[] {
    const ctes = stmt.withClause === undefined ? outer : this.withClause(stmt.withClause, parent, outer);
    const returning = stmt.returningClause?.exprs;
    if (returning === undefined || stmt.relation === undefined) return [];
    const source: Level = { entries: [], parent, ctes };
    this.dmlTarget(stmt.relation, source, [], new Map());
    if (stmt.sourceRelation !== undefined) this.fromItem(stmt.sourceRelation, source, source.entries);
    let written: ColumnRef[] = [];
    for (const clause of stmt.mergeWhenClauses ?? []) {
      const when = bodyOf<MergeWhenClause>(clause, 'MergeWhenClause');
      for (const item of [...(when?.targetList ?? []), ...(when?.values ?? [])]) {
        const value = bodyOf<ResTarget>(item, 'ResTarget')?.val ?? item;
        written = union(written, this.expression(value, source).sources);
      }
    }
    const level: Level = { entries: [], parent, ctes };
    this.dmlTarget(stmt.relation, level, written, new Map());
    if (stmt.sourceRelation !== undefined) this.fromItem(stmt.sourceRelation, level, level.entries);
    return this.targets(returning, level);
  }

  /** The target of INSERT/UPDATE/DELETE/MERGE, also visible as `old` and `new` in RETURNING. */
  private dmlTarget(rv: RangeVar, level: Level, extraAll: readonly ColumnRef[], extraByColumn: ReadonlyMap<string, readonly ColumnRef[]>): void {
    const table = this.tableOf(rv);
    const base = { table, extraAll, extraByColumn };
    level.entries.push({ ...base, refname: rv.alias?.aliasname ?? rv.relname ?? '' });
    level.entries.push({ ...base, refname: 'old' }, { ...base, refname: 'new' });
  }

  private tableOf(rv: RangeVar): { schema?: string; name: string } {
    return rv.schemaname === undefined || rv.schemaname === ''
      ? { name: rv.relname ?? '' } : { schema: rv.schemaname, name: rv.relname ?? '' };
  }

  private fromItem(item: Node, level: Level, into: Entry[]): void {
    const tag = tagOf(item);
    switch (tag) {
      case 'RangeVar': {
        const rv = bodyOf<RangeVar>(item, tag);
        if (rv === undefined) return;
        const cte = rv.schemaname === undefined ? level.ctes.get(rv.relname ?? '') : undefined;
        const refname = rv.alias?.aliasname ?? rv.relname ?? '';
        if (cte !== undefined) into.push({ refname, columns: rename(cte, aliasNames(rv.alias)) });
        else into.push({ refname, table: this.tableOf(rv), renamed: aliasNames(rv.alias) });
        return;
      }
      case 'RangeSubselect': {
        const sub = bodyOf<RangeSubselect>(item, tag);
        if (sub?.subquery === undefined) return;
        const scope = sub.lateral === true ? level : level.parent;
        const columns = this.statement(sub.subquery, scope, level.ctes);
        into.push({ refname: sub.alias?.aliasname ?? '', columns: rename(columns, aliasNames(sub.alias)) });
        return;
      }
      case 'JoinExpr': {
        const join = bodyOf<JoinExpr>(item, tag);
        if (join === undefined) return;
        const inner: Entry[] = [];
        if (join.larg !== undefined) this.fromItem(join.larg, level, inner);
        if (join.rarg !== undefined) this.fromItem(join.rarg, level, inner);
        into.push(...inner);
        if (join.alias?.aliasname !== undefined) into.push({ refname: join.alias.aliasname, children: inner });
        return;
      }
      case 'RangeTableSample': {
        const sample = bodyOf<{ relation?: Node }>(item, tag);
        if (sample?.relation !== undefined) this.fromItem(sample.relation, level, into);
        return;
      }
      case 'RangeFunction': {
        const fn = bodyOf<RangeFunction>(item, tag);
        // A set-returning function's columns are whatever it computes: lineage is lost beyond its arguments.
        this.complete = false;
        const first = listItems(fn?.functions?.[0])[0];
        const call = bodyOf<{ funcname?: Node[] }>(first, 'FuncCall');
        const refname = fn?.alias?.aliasname ?? namesOf(call?.funcname).pop() ?? '';
        into.push({ refname, opaque: this.expression(fn?.functions ?? [], level).sources });
        return;
      }
      default: {
        // XMLTABLE, JSON_TABLE and anything newer: columns computed from a document.
        this.complete = false;
        const alias = bodyOf<{ alias?: Alias }>(item, tag ?? '')?.alias;
        into.push({ refname: alias?.aliasname ?? '', opaque: this.expression(item, level).sources });
      }
    }
  }

  /** Expansion of `*` or `t.*` in a target list. */
  private star(fields: readonly Node[], level: Level): OutputColumnLineage[] {
    const names = namesOf([...fields]);
    if (names.length === 0) {
      const out: OutputColumnLineage[] = [];
      let tables: ColumnRef[] = [];
      let direct = true;
      const flush = (): void => {
        if (tables.length > 0) out.push({ sources: tables, direct, expands: true });
        tables = [];
        direct = true;
      };
      for (const entry of level.entries) {
        if (entry.children !== undefined || entry.refname === 'old' || entry.refname === 'new') continue;
        if (entry.table !== undefined) {
          const whole = this.wholeRow(entry);
          tables = union(tables, whole);
          direct = direct && whole.length === 1;
        } else {
          flush();
          out.push(...this.expandEntry(entry));
        }
      }
      flush();
      return out;
    }
    const entry = this.findEntry(names[names.length - 1], names.length >= 2 ? names[names.length - 2] : undefined, level);
    if (entry === undefined) {
      this.complete = false;
      return [];
    }
    return this.expandEntry(entry);
  }

  private expandEntry(entry: Entry): OutputColumnLineage[] {
    if (entry.columns !== undefined) return [...entry.columns];
    if (entry.children !== undefined) return entry.children.flatMap((c) => this.expandEntry(c));
    const whole = this.wholeRow(entry);
    return [{ sources: whole, direct: entry.table !== undefined && whole.length === 1, expands: true }];
  }

  /** Every source a whole-row reference to the entry covers. */
  private wholeRow(entry: Entry): ColumnRef[] {
    if (entry.table !== undefined) {
      return union([tableColumn(entry.table, '*')], entry.extraAll ?? [], ...(entry.extraByColumn?.values() ?? []));
    }
    if (entry.columns !== undefined) return union(...entry.columns.map((c) => c.sources));
    if (entry.children !== undefined) return union(...entry.children.map((c) => this.wholeRow(c)));
    return [...(entry.opaque ?? [])];
  }

  private findEntry(name: string, schema: string | undefined, level: Level | undefined): Entry | undefined {
    for (let l = level; l !== undefined; l = l.parent) {
      for (const entry of l.entries) {
        if (entry.refname !== name) continue;
        if (schema !== undefined && entry.table?.schema !== schema) continue;
        return entry;
      }
    }
    return undefined;
  }

  /** The sources of column `column` of `entry`; undefined when the entry certainly has no such column. */
  private columnOf(entry: Entry, column: string): Resolved | undefined {
    if (entry.table !== undefined) {
      if (entry.renamed?.includes(column) === true) return { sources: [tableColumn(entry.table, '*')], direct: false };
      const extra = union(entry.extraAll ?? [], entry.extraByColumn?.get(column) ?? []);
      return { sources: union([tableColumn(entry.table, column)], extra), direct: extra.length === 0 };
    }
    if (entry.columns !== undefined) {
      const named = entry.columns.find((c) => c.expands !== true && c.name === column);
      if (named !== undefined) return { sources: [...named.sources], direct: named.direct };
      const stars = entry.columns.filter((c) => c.expands === true);
      if (stars.length === 0) return undefined;
      const sources = stars.flatMap((s) => s.sources.map((src) => (src.column === '*' ? { ...src, column } : src)));
      return { sources: union(sources), direct: stars.every((s) => s.direct) };
    }
    if (entry.children !== undefined) {
      const found = entry.children.map((c) => this.columnOf(c, column)).filter((r): r is Resolved => r !== undefined);
      return found.length === 0 ? undefined : { sources: union(...found.map((f) => f.sources)), direct: found.every((f) => f.direct) };
    }
    return { sources: [...(entry.opaque ?? [])], direct: false };
  }

  /**
   * An unqualified column. A derived table that certainly has the name settles it at its level;
   * otherwise every table that may have it counts, at this level and (as PostgreSQL would look
   * further out when none has it) at the enclosing ones.
   */
  private unqualified(column: string, level: Level): Resolved {
    let sources: ColumnRef[] = [];
    let direct = true;
    for (let l: Level | undefined = level; l !== undefined; l = l.parent) {
      const certain: Resolved[] = [];
      const possible: Resolved[] = [];
      for (const entry of l.entries) {
        if (entry.children !== undefined || entry.refname === 'old' || entry.refname === 'new') continue;
        const r = this.columnOf(entry, column);
        if (r === undefined) continue;
        const named = entry.columns?.some((c) => c.expands !== true && c.name === column) === true;
        (named ? certain : possible).push(r);
      }
      const found = certain.length > 0 ? certain : possible;
      for (const r of found) {
        sources = union(sources, r.sources);
        direct = direct && r.direct;
      }
      if (certain.length > 0) break;
    }
    if (sources.length === 0) this.complete = false;
    return { sources, direct };
  }

  private columnRef(ref: AstColumnRef, level: Level): Resolved {
    const fields = ref.fields ?? [];
    const names = namesOf(fields);
    const star = tagOf(fields[fields.length - 1]) === 'A_Star';
    if (star) {
      if (names.length === 0) return { sources: union(...level.entries.map((e) => this.wholeRow(e))), direct: false };
      const entry = this.findEntry(names[names.length - 1], names.length >= 2 ? names[names.length - 2] : undefined, level);
      if (entry === undefined) { this.complete = false; return { sources: [], direct: false }; }
      return { sources: this.wholeRow(entry), direct: false };
    }
    if (names.length === 1) {
      const column = this.unqualified(names[0], level);
      const entry = this.findEntry(names[0], undefined, level);
      if (entry === undefined) return column;
      // `SELECT u FROM users u`: a whole-row reference (unless a table has a column named u; both count).
      return { sources: union(this.wholeRow(entry), column.sources), direct: false };
    }
    // [table, column], [schema, table, column], [catalog, schema, table, column]; or a composite
    // column's field (`(col).field` written `col.field` is not valid, but `t.col.field` is).
    for (let width = Math.min(names.length, 4); width >= 2; width--) {
      const parts = names.slice(0, width);
      const column = parts[parts.length - 1];
      const entry = this.findEntry(parts[parts.length - 2], width >= 3 ? parts[parts.length - 3] : undefined, level);
      if (entry === undefined) continue;
      const r = this.columnOf(entry, column);
      if (r === undefined) break;
      return width === names.length ? r : { sources: r.sources, direct: false };
    }
    const fallback = this.unqualified(names[0], level);
    if (fallback.sources.length === 0) this.complete = false;
    return { sources: fallback.sources, direct: false };
  }

  /** Sources of every column an expression reads, through functions, casts, CASE and subqueries. */
  private expression(node: unknown, level: Level): Resolved {
    const ref = bodyOf<AstColumnRef>(node, 'ColumnRef');
    if (ref !== undefined) return this.columnRef(ref, level);
    let sources: ColumnRef[] = [];
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) { for (const v of value) walk(v); return; }
      if (!isObject(value)) return;
      for (const key in value) {
        const child = value[key];
        if (typeof child !== 'object' || child === null) continue;
        if (key === 'ColumnRef') {
          sources = union(sources, this.columnRef(child as AstColumnRef, level).sources);
        } else if (key === 'SubLink') {
          const link = child as SubLink;
          if (link.testexpr !== undefined) walk(link.testexpr);
          if (link.subLinkType !== 'EXISTS_SUBLINK' && link.subselect !== undefined) {
            sources = union(sources, ...this.statement(link.subselect, level, level.ctes).map((c) => c.sources));
          }
        } else if (key === 'SelectStmt') {
          sources = union(sources, ...this.select(child as SelectStmt, level, level.ctes).map((c) => c.sources));
        } else {
          walk(child);
        }
      }
    };
    walk(node);
    return { sources, direct: false };
  }
}

const SQL_VALUE_NAMES: Readonly<Record<string, string>> = {
  SVFOP_CURRENT_DATE: 'current_date', SVFOP_CURRENT_TIME: 'current_time', SVFOP_CURRENT_TIME_N: 'current_time',
  SVFOP_CURRENT_TIMESTAMP: 'current_timestamp', SVFOP_CURRENT_TIMESTAMP_N: 'current_timestamp',
  SVFOP_LOCALTIME: 'localtime', SVFOP_LOCALTIME_N: 'localtime', SVFOP_LOCALTIMESTAMP: 'localtimestamp',
  SVFOP_LOCALTIMESTAMP_N: 'localtimestamp', SVFOP_CURRENT_ROLE: 'current_role', SVFOP_CURRENT_USER: 'current_user',
  SVFOP_USER: 'user', SVFOP_SESSION_USER: 'session_user', SVFOP_CURRENT_CATALOG: 'current_catalog',
  SVFOP_CURRENT_SCHEMA: 'current_schema',
};

/** The column name PostgreSQL gives an unaliased target (FigureColname in parse_target.c). */
export function figureColname(node: unknown): string | undefined {
  return figure(node)?.name;
}

/** Strength 2: a real name (column, function); 1: a fallback word (`case`, a type name). */
function figure(node: unknown): { name: string; strength: 1 | 2 } | undefined {
  const tag = tagOf(node);
  if (tag === undefined) return undefined;
  const body = (node as Record<string, unknown>)[tag] as Record<string, unknown>;
  switch (tag) {
    case 'ColumnRef': {
      const fields = (body.fields ?? []) as Node[];
      const last = stringOf(fields[fields.length - 1]);
      return last === undefined ? undefined : { name: last, strength: 2 };
    }
    case 'A_Indirection': {
      const ind = (body.indirection ?? []) as Node[];
      const last = stringOf(ind[ind.length - 1]);
      return last !== undefined ? { name: last, strength: 2 } : figure(body.arg);
    }
    case 'FuncCall': {
      const name = namesOf(body.funcname as Node[]).pop();
      return name === undefined ? undefined : { name, strength: 2 };
    }
    case 'A_Expr':
      return body.kind === 'AEXPR_NULLIF' ? { name: 'nullif', strength: 2 } : undefined;
    case 'TypeCast': {
      const inner = figure(body.arg);
      if (inner !== undefined) return inner;
      const type = namesOf((body.typeName as { names?: Node[] } | undefined)?.names).pop();
      return type === undefined ? undefined : { name: type, strength: 1 };
    }
    case 'CollateClause': return figure(body.arg);
    case 'GroupingFunc': return { name: 'grouping', strength: 2 };
    case 'MergeSupportFunc': return { name: 'merge_action', strength: 2 };
    case 'SubLink': {
      switch (body.subLinkType) {
        case 'EXISTS_SUBLINK': return { name: 'exists', strength: 2 };
        case 'ARRAY_SUBLINK': return { name: 'array', strength: 2 };
        case 'EXPR_SUBLINK': {
          const sub = bodyOf<SelectStmt>(body.subselect, 'SelectStmt');
          const first = bodyOf<ResTarget>(sub?.targetList?.[0], 'ResTarget');
          if (first?.name !== undefined) return { name: first.name, strength: 2 };
          return first?.val === undefined ? undefined : figure(first.val);
        }
        default: return undefined;
      }
    }
    case 'CaseExpr': {
      const inner = figure(body.defresult);
      return inner !== undefined && inner.strength === 2 ? inner : { name: 'case', strength: 1 };
    }
    case 'A_ArrayExpr': return { name: 'array', strength: 2 };
    case 'RowExpr': return { name: 'row', strength: 2 };
    case 'CoalesceExpr': return { name: 'coalesce', strength: 2 };
    case 'MinMaxExpr': return { name: body.op === 'IS_LEAST' ? 'least' : 'greatest', strength: 2 };
    case 'SQLValueFunction': {
      const name = SQL_VALUE_NAMES[String(body.op)];
      return name === undefined ? undefined : { name, strength: 2 };
    }
    case 'XmlExpr': {
      const names: Record<string, string> = {
        IS_XMLCONCAT: 'xmlconcat', IS_XMLELEMENT: 'xmlelement', IS_XMLFOREST: 'xmlforest', IS_XMLPARSE: 'xmlparse',
        IS_XMLPI: 'xmlpi', IS_XMLROOT: 'xmlroot', IS_XMLSERIALIZE: 'xmlserialize',
      };
      const name = names[String(body.op)];
      return name === undefined ? undefined : { name, strength: 2 };
    }
    case 'XmlSerialize': return { name: 'xmlserialize', strength: 2 };
    case 'JsonObjectConstructor': return { name: 'json_object', strength: 2 };
    case 'JsonArrayConstructor': case 'JsonArrayQueryConstructor': return { name: 'json_array', strength: 2 };
    case 'JsonObjectAgg': return { name: 'json_objectagg', strength: 2 };
    case 'JsonArrayAgg': return { name: 'json_arrayagg', strength: 2 };
    case 'JsonParseExpr': return { name: 'json', strength: 2 };
    case 'JsonScalarExpr': return { name: 'json_scalar', strength: 2 };
    case 'JsonSerializeExpr': return { name: 'json_serialize', strength: 2 };
    case 'JsonFuncExpr': {
      const names: Record<string, string> = { JSON_EXISTS_OP: 'json_exists', JSON_QUERY_OP: 'json_query', JSON_VALUE_OP: 'json_value' };
      const name = names[String(body.op)];
      return name === undefined ? undefined : { name, strength: 2 };
    }
    default: return undefined;
  }
}
