import type { ColumnAssignment, ColumnRef, Lineage, OutputColumnLineage } from '@querygate/core';
import { isNode, nameOf, SKIP_KEYS, type AstNode } from './astFacts';
import { BUILTIN_FUNCTIONS } from './builtins';

type Outputs = readonly OutputColumnLineage[];

/** One FROM item in scope: a base table, or a derived table / CTE with known outputs. */
interface Source {
  readonly alias: string;
  readonly table?: { readonly schema?: string; readonly table: string };
  /** Outputs of a derived table or CTE; undefined while a recursive CTE is being resolved. */
  readonly outputs?: Outputs;
}

interface Scope {
  readonly sources: readonly Source[];
  readonly parent: Scope | undefined;
}

interface Resolved { sources: ColumnRef[]; direct: boolean }

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

function colKey(c: ColumnRef): string {
  return `${c.schema ?? ''}\u0000${c.table}\u0000${c.column}`;
}

function addAll(out: ColumnRef[], more: readonly ColumnRef[]): void {
  for (const c of more) if (!out.some((o) => colKey(o) === colKey(c))) out.push(c);
}

function column(table: { schema?: string; table: string }, name: string): ColumnRef {
  return table.schema === undefined ? { table: table.table, column: name } : { schema: table.schema, table: table.table, column: name };
}

/**
 * Output-column lineage of a SELECT from node-sql-parser's AST: aliases, expressions, CASE,
 * subqueries, derived tables, CTEs (recursive too) and set operations. Over-approximates where
 * MySQL's name resolution needs the catalog (an unqualified column with several base tables in
 * scope is attributed to each), and reports `complete: false` where it cannot follow the data.
 */
export class LineageResolver {
  private complete = true;

  resolveStatement(root: AstNode): Lineage {
    if (root.type === 'set') return this.assignments(root);
    const outputs = this.query(root, undefined, new Map());
    return { outputs, complete: this.complete };
  }

  /**
   * What an UPDATE's SET list or an INSERT ... SELECT / VALUES writes into each target column. An
   * unqualified SET column of a multi-table UPDATE may be any of its tables'; an INSERT without a
   * column list targets `*`. Undefined for other statements.
   */
  resolveAssignments(root: AstNode): ColumnAssignment[] | undefined {
    const tables = (Array.isArray(root.table) ? root.table : []).filter(isNode);
    if (root.type === 'update') {
      const scope: Scope = { sources: this.fromList(root.table, undefined, new Map()), parent: undefined };
      const out: ColumnAssignment[] = [];
      for (const item of Array.isArray(root.set) ? root.set.filter(isNode) : []) {
        const column = nameOf(item.column);
        if (column === undefined) continue;
        const sources: ColumnRef[] = [];
        this.collect(item.value, scope, new Map(), sources);
        const qualifier = nameOf(item.table);
        const targets = scope.sources.filter((s) => s.table !== undefined && (qualifier === undefined || s.alias === qualifier || s.table.table === qualifier));
        for (const t of targets) out.push({ target: { ...(t.table!.schema !== undefined ? { schema: t.table!.schema } : {}), table: t.table!.table, column }, sources });
      }
      return out;
    }
    if ((root.type === 'insert' || root.type === 'replace') && tables.length > 0 && isNode(root.values)) {
      const target = tables[0]!;
      const table = nameOf(target.table);
      if (table === undefined) return undefined;
      const schema = nameOf(target.db);
      const ref = (column: string): ColumnRef => (schema !== undefined ? { schema, table, column } : { table, column });
      const values = root.values;
      let outputs: Outputs;
      if (values.type === 'select') {
        outputs = this.query(values, undefined, new Map());
      } else {
        // VALUES rows: each value's sources, merged by position.
        const rows = Array.isArray(values.values) ? values.values.filter(isNode) : [];
        const merged: ColumnRef[][] = [];
        for (const row of rows) {
          const cells = isNode(row.value) ? [row.value] : Array.isArray(row.value) ? row.value : [];
          cells.forEach((cell, i) => { const into = (merged[i] ??= []); this.collect(cell, { sources: [], parent: undefined }, new Map(), into); });
        }
        outputs = merged.map((sources) => ({ sources, direct: false }));
      }
      const columns = Array.isArray(root.columns) ? root.columns.map((c) => nameOf(c) ?? '') : [];
      if (columns.length > 0 && columns.length === outputs.length && !outputs.some((o) => o.expands === true)) {
        return columns.map((c, i) => ({ target: ref(c), sources: outputs[i]!.sources }));
      }
      return [{ target: ref('*'), sources: outputs.flatMap((o) => o.sources) }];
    }
    return undefined;
  }

  /**
   * `SET @a = (SELECT ...), @@session.x = ...`: one output per assignment, named after the
   * variable, carrying what its value is computed from. A value stored there is read back later
   * without lineage, so this is what masking checks before it lets a SET read a sensitive table.
   */
  private assignments(root: AstNode): Lineage {
    const outputs: OutputColumnLineage[] = [];
    const list = Array.isArray(root.expr) ? root.expr : [];
    if (list.length === 0) this.complete = false;
    const scope: Scope = { sources: [], parent: undefined };
    for (const assign of list) {
      if (!isNode(assign) || assign.type !== 'assign' || !isNode(assign.left)) { this.complete = false; continue; }
      const sources: ColumnRef[] = [];
      this.collect(assign.right, scope, new Map(), sources);
      const name = nameOf(assign.left.name);
      outputs.push({ ...(name !== undefined ? { name } : {}), sources, direct: false });
    }
    return { outputs, complete: this.complete };
  }

  /** A SELECT, possibly the head of a UNION / EXCEPT / INTERSECT chain, with its WITH list. */
  private query(node: AstNode, outer: Scope | undefined, ctes: ReadonlyMap<string, Outputs | undefined>): Outputs {
    const scopeCtes = this.withList(node, outer, ctes);
    const branches: AstNode[] = [];
    for (let b: unknown = node; isNode(b); b = b._next) branches.push(b);
    const results = branches.map((b) => this.select(b, outer, scopeCtes));
    if (results.length === 1) return results[0] as Outputs;
    return this.merge(results);
  }

  private withList(node: AstNode, outer: Scope | undefined, ctes: ReadonlyMap<string, Outputs | undefined>): ReadonlyMap<string, Outputs | undefined> {
    if (!Array.isArray(node.with)) return ctes;
    const map = new Map(ctes);
    for (const w of node.with) {
      if (!isNode(w)) { this.complete = false; continue; }
      const name = nameOf(w.name)?.toLowerCase();
      const body = isNode(w.stmt) ? (isNode(w.stmt.ast) ? w.stmt.ast : w.stmt) : undefined;
      if (name === undefined || body === undefined) { this.complete = false; continue; }
      const renames = Array.isArray(w.columns) ? w.columns.map((c: unknown) => nameOf(isNode(c) ? c.column ?? c : c)) : [];
      if (w.recursive === true || isNode(body._next)) {
        // The anchor (first branch) defines the columns the recursive part refers to.
        map.set(name, undefined);
        const anchor = this.rename(this.select(body, outer, map), renames);
        map.set(name, anchor);
      }
      map.set(name, this.rename(this.query(body, outer, map), renames));
    }
    return map;
  }

  private rename(outputs: Outputs, names: readonly (string | undefined)[]): Outputs {
    if (names.length === 0) return outputs;
    if (outputs.some((o) => o.expands === true)) { this.complete = false; return outputs; }
    return outputs.map((o, i) => {
      const name = names[i];
      return name === undefined ? o : { ...o, name };
    });
  }

  /** Positional merge of set-operation branches. */
  private merge(results: Outputs[]): Outputs {
    const first = results[0] as Outputs;
    const aligned = results.every((r) => r.length === first.length && !r.some((o) => o.expands === true));
    if (!aligned) this.complete = false;
    return first.map((o, i) => {
      const sources: ColumnRef[] = [];
      let direct = o.direct;
      for (const r of results) {
        const other = r[i];
        if (other === undefined) { direct = false; continue; }
        addAll(sources, other.sources);
        direct = direct && other.direct;
      }
      const merged: OutputColumnLineage = { sources, direct: direct && sources.length <= 1 };
      return { ...(o.name !== undefined ? { name: o.name } : {}), ...merged, ...(o.expands === true ? { expands: true } : {}) };
    });
  }

  private select(node: AstNode, outer: Scope | undefined, ctes: ReadonlyMap<string, Outputs | undefined>): Outputs {
    if (node.type !== 'select') { this.complete = false; return []; }
    const innerCtes = this.withList(node, outer, ctes);
    const scope: Scope = { sources: this.fromList(node.from, outer, innerCtes), parent: outer };
    const columns = node.columns;
    if (columns === '*') return this.star(scope, undefined);
    if (!Array.isArray(columns)) { this.complete = false; return []; }
    const outputs: OutputColumnLineage[] = [];
    for (const col of columns) {
      if (!isNode(col)) { this.complete = false; continue; }
      const expr = col.expr;
      const alias = nameOf(col.as);
      if (isNode(expr) && expr.type === 'column_ref' && nameOf(expr.column) === '*') {
        outputs.push(...this.star(scope, nameOf(expr.table)));
        continue;
      }
      if (isNode(expr) && expr.type === 'star') { outputs.push(...this.star(scope, undefined)); continue; }
      if (isNode(expr) && expr.type === 'column_ref') {
        const r = this.columnRef(expr, scope);
        const name = alias ?? nameOf(expr.column);
        outputs.push({ ...(name !== undefined ? { name } : {}), sources: r.sources, direct: r.direct });
        continue;
      }
      const sources: ColumnRef[] = [];
      this.collect(expr, scope, innerCtes, sources);
      outputs.push({ ...(alias !== undefined ? { name: alias } : {}), sources, direct: false });
    }
    return outputs;
  }

  private fromList(from: unknown, outer: Scope | undefined, ctes: ReadonlyMap<string, Outputs | undefined>): Source[] {
    const items = Array.isArray(from) ? from : isNode(from) ? [from] : [];
    const sources: Source[] = [];
    for (const item of items) {
      if (!isNode(item)) { this.complete = false; continue; }
      if (item.type === 'dual') continue;
      const alias = nameOf(item.as);
      const derived = isNode(item.expr) ? (isNode(item.expr.ast) ? item.expr.ast : item.expr) : undefined;
      if (derived !== undefined && (derived.type === 'select' || isNode(derived._next))) {
        const outputs = this.query(derived, outer, ctes);
        sources.push({ alias: alias ?? '', outputs });
        continue;
      }
      const table = nameOf(item.table);
      if (table === undefined) { this.complete = false; continue; }
      const db = nameOf(item.db);
      if ((db === undefined || db === '') && ctes.has(table.toLowerCase())) {
        const outputs = ctes.get(table.toLowerCase());
        if (outputs === undefined) this.complete = false;
        sources.push({ alias: alias ?? table, ...(outputs !== undefined ? { outputs } : {}) });
        continue;
      }
      sources.push({ alias: alias ?? table, table: db === undefined || db === '' ? { table } : { schema: db, table } });
    }
    return sources;
  }

  /** `*` or `t.*`: base tables stay one expanding entry; derived tables contribute their outputs. */
  private star(scope: Scope, qualifier: string | undefined): OutputColumnLineage[] {
    const picked = qualifier === undefined ? scope.sources : scope.sources.filter((s) => same(s.alias, qualifier) || (s.table !== undefined && same(s.table.table, qualifier)));
    if (picked.length === 0) { this.complete = false; return []; }
    const out: OutputColumnLineage[] = [];
    for (const s of picked) {
      if (s.table !== undefined) out.push({ sources: [column(s.table, '*')], direct: true, expands: true });
      else if (s.outputs !== undefined) out.push(...s.outputs);
      else this.complete = false;
    }
    return out;
  }

  private columnRef(expr: AstNode, scope: Scope): Resolved {
    const name = nameOf(expr.column);
    if (name === undefined) { this.complete = false; return { sources: [], direct: false }; }
    const qualifier = nameOf(expr.table);
    const db = nameOf(expr.db);
    for (let s: Scope | undefined = scope; s !== undefined; s = s.parent) {
      const candidates = qualifier === undefined
        ? s.sources
        : s.sources.filter((src) => src.table !== undefined
          ? (same(src.alias, qualifier) && (db === undefined || same(src.table.schema ?? '', db))) ||
            (src.table.table === qualifier && db !== undefined && same(src.table.schema ?? '', db))
          : same(src.alias, qualifier));
      const hits: Resolved[] = [];
      for (const src of candidates) {
        const r = this.fromSource(src, name, qualifier !== undefined);
        if (r !== undefined) hits.push(r);
      }
      if (hits.length > 0) {
        const sources: ColumnRef[] = [];
        for (const h of hits) addAll(sources, h.sources);
        return { sources, direct: hits.length === 1 && (hits[0] as Resolved).direct };
      }
      if (qualifier !== undefined && candidates.length > 0) break;
    }
    // Unknown alias or column: the parser accepted it, so the catalog would resolve it; we cannot.
    this.complete = false;
    return { sources: [], direct: false };
  }

  /** The lineage of column `name` from one source, or undefined when the source lacks it. */
  private fromSource(src: Source, name: string, qualified: boolean): Resolved | undefined {
    if (src.table !== undefined) return { sources: [column(src.table, name)], direct: true };
    if (src.outputs === undefined) { this.complete = false; return undefined; }
    const named = src.outputs.find((o) => o.expands !== true && o.name !== undefined && same(o.name, name));
    if (named !== undefined) return { sources: [...named.sources], direct: named.direct };
    // A column hidden in a derived `*`: it is that column of one of the expanded tables.
    const expanded = src.outputs.filter((o) => o.expands === true);
    if (expanded.length > 0) {
      const sources: ColumnRef[] = [];
      for (const o of expanded) for (const c of o.sources) addAll(sources, [{ ...c, column: name }]);
      return { sources, direct: expanded.length === 1 && sources.length === 1 };
    }
    if (qualified) this.complete = false;
    return undefined;
  }

  /** Every source column feeding an expression (function args, CASE, casts, subqueries...). */
  private collect(x: unknown, scope: Scope, ctes: ReadonlyMap<string, Outputs | undefined>, out: ColumnRef[]): void {
    if (Array.isArray(x)) { for (const v of x) this.collect(v, scope, ctes, out); return; }
    if (!isNode(x)) return;
    if (x.type === 'column_ref') {
      if (nameOf(x.column) === '*') {
        for (const o of this.star(scope, nameOf(x.table))) addAll(out, o.sources);
        return;
      }
      addAll(out, this.columnRef(x, scope).sources);
      return;
    }
    if (x.type === 'var' && x.prefix === '@') {
      // A user variable may hold anything an earlier statement put there.
      this.complete = false;
      return;
    }
    const sub = isNode(x.ast) ? x.ast : x.type === 'select' ? x : undefined;
    if (sub !== undefined) {
      for (const o of this.query(sub, scope, ctes)) addAll(out, o.sources);
      return;
    }
    if (x.type === 'function') {
      const n = isNode(x.name) && Array.isArray(x.name.name) ? x.name.name.map(nameOf).join('.') : nameOf(x.name);
      const schema = isNode(x.name) ? nameOf(x.name.schema) : undefined;
      // A stored function may read any table: its result is not traceable from its arguments.
      if (schema !== undefined || n === undefined || !BUILTIN_FUNCTIONS.has(n.toLowerCase())) this.complete = false;
    }
    for (const key of Object.keys(x)) {
      if (SKIP_KEYS.has(key)) continue;
      this.collect(x[key], scope, ctes, out);
    }
  }
}
