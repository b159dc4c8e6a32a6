import type { ColumnAssignment, Lineage, ObjectRef } from '@querygate/core';
import { LineageResolver } from './LineageResolver';

/** node-sql-parser's AST is loosely typed; we read it defensively through these helpers. */
export type AstNode = Readonly<Record<string, unknown>>;

export function isNode(x: unknown): x is AstNode {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** A name that the AST gives as a string, `{ value }` or `{ expr: { value } }`. */
export function nameOf(x: unknown): string | undefined {
  if (typeof x === 'string') return x;
  if (isNode(x)) {
    if (typeof x.value === 'string') return x.value;
    if (isNode(x.expr) && typeof x.expr.value === 'string') return x.expr.value;
  }
  return undefined;
}

/** Keys that hold parser bookkeeping, not SQL. */
export const SKIP_KEYS = new Set(['loc', 'tableList', 'columnList']);

export interface AstFacts {
  readonly reads: ObjectRef[];
  readonly writes: ObjectRef[];
  readonly functions: string[];
  readonly hasWhere: boolean;
  readonly lineage?: Lineage;
  /** UPDATE / INSERT: what each target column receives. */
  readonly assigned?: ColumnAssignment[];
}

function ref(item: AstNode): ObjectRef | undefined {
  const table = nameOf(item.table);
  if (table === undefined) return undefined;
  const db = nameOf(item.db);
  return db === undefined || db === '' ? { name: table } : { schema: db, name: table };
}

function sameRef(a: ObjectRef, b: ObjectRef): boolean {
  return a.name === b.name && a.schema === b.schema;
}

function addRef(out: ObjectRef[], r: ObjectRef): void {
  if (!out.some((o) => sameRef(o, r))) out.push(r);
}

function functionName(node: AstNode): string | undefined {
  if (node.type === 'aggr_func') return typeof node.name === 'string' ? node.name.toLowerCase() : undefined;
  const n = node.name;
  if (typeof n === 'string') return n.toLowerCase();
  if (!isNode(n)) return undefined;
  const parts = Array.isArray(n.name) ? n.name.map(nameOf).filter((p): p is string => p !== undefined) : [];
  if (parts.length === 0) return undefined;
  const schema = nameOf(n.schema);
  return (schema !== undefined ? `${schema}.${parts.join('.')}` : parts.join('.')).toLowerCase();
}

/** Walks every node: table references (respecting CTE scope) and function calls. */
class TableWalker {
  readonly tables: ObjectRef[] = [];
  readonly functions: string[] = [];
  constructor(private readonly targets: ReadonlySet<object>) {}

  walk(x: unknown, ctes: ReadonlySet<string>, isDeleteRoot = false): void {
    if (Array.isArray(x)) { for (const item of x) this.walk(item, ctes); return; }
    if (!isNode(x)) return;
    let scope = ctes;
    if (Array.isArray(x.with)) {
      const names = x.with.map((w: unknown) => (isNode(w) ? nameOf(w.name)?.toLowerCase() : undefined));
      const recursive = x.with.some((w: unknown) => isNode(w) && w.recursive === true);
      x.with.forEach((w: unknown, i: number) => {
        const bodyScope = new Set(ctes);
        names.forEach((n, k) => { if (n !== undefined && (recursive || k < i)) bodyScope.add(n); });
        if (isNode(w)) this.walk(w.stmt, bodyScope);
      });
      const all = new Set(ctes);
      for (const n of names) if (n !== undefined) all.add(n);
      scope = all;
    }
    if (x.type === 'function' || x.type === 'aggr_func') {
      const fn = functionName(x);
      if (fn !== undefined && !this.functions.includes(fn)) this.functions.push(fn);
    }
    for (const key of Object.keys(x)) {
      if (key === 'with' || SKIP_KEYS.has(key)) continue;
      const v = x[key];
      if ((key === 'from' || (key === 'table' && !isDeleteRoot)) && Array.isArray(v)) {
        for (const item of v) {
          if (isNode(item) && item.type === undefined && !this.targets.has(item)) {
            const r = ref(item);
            if (r !== undefined && !(r.schema === undefined && scope.has(r.name.toLowerCase()))) addRef(this.tables, r);
          }
        }
      }
      if (key === 'table' && isDeleteRoot) continue;
      this.walk(v, scope);
    }
  }
}

function aliasOf(item: AstNode): string | undefined {
  return nameOf(item.as) ?? nameOf(item.table);
}

/**
 * node-sql-parser gives a parenthesised join (`FROM (a JOIN b ON ...) JOIN c`, which is how MariaDB
 * prints every join view) as `{ expr: [a, b], parentheses, joins: [c] }` instead of the usual list;
 * read as a list, its tables would be neither reads nor lineage sources.
 */
function flattenParenthesisedFrom(x: unknown): void {
  if (Array.isArray(x)) { for (const item of x) flattenParenthesisedFrom(item); return; }
  if (!isNode(x)) return;
  const from = x.from;
  if (isNode(from) && Array.isArray(from.expr)) {
    (x as Record<string, unknown>).from = [...(from.expr as unknown[]), ...(Array.isArray(from.joins) ? from.joins as unknown[] : [])];
  }
  for (const key of Object.keys(x)) flattenParenthesisedFrom(x[key]);
}

/** Reads, writes, functions, WHERE and (for queries) lineage from one parsed statement. */
export function astFacts(root: AstNode, wantLineage: boolean): AstFacts {
  flattenParenthesisedFrom(root);
  const writes: ObjectRef[] = [];
  const targets = new Set<object>();
  const type = root.type;
  const tableItems = (Array.isArray(root.table) ? root.table : isNode(root.table) ? [root.table] : []).filter(isNode);
  if (type === 'insert' || type === 'replace') {
    for (const item of tableItems.slice(0, 1)) { targets.add(item); const r = ref(item); if (r !== undefined) addRef(writes, r); }
  } else if (type === 'update') {
    const set = Array.isArray(root.set) ? root.set.filter(isNode) : [];
    const plain = tableItems.filter((t) => nameOf(t.table) !== undefined);
    for (const s of set) {
      const qualifier = nameOf(s.table);
      const hit = qualifier === undefined
        ? plain // unqualified: with several tables we cannot tell which one, so all of them
        : plain.filter((t) => aliasOf(t) === qualifier || nameOf(t.table) === qualifier);
      for (const t of hit) { targets.add(t); const r = ref(t); if (r !== undefined) addRef(writes, r); }
    }
  } else if (type === 'delete') {
    const from = Array.isArray(root.from) ? root.from.filter(isNode) : [];
    for (const target of tableItems) {
      const name = nameOf(target.table);
      const db = nameOf(target.db);
      const match = from.find((f) => (db === undefined || nameOf(f.db) === db) && (aliasOf(f) === name || (nameOf(f.as) === undefined && nameOf(f.table) === name)));
      const item = match ?? target;
      targets.add(item);
      const r = ref(item);
      if (r !== undefined) addRef(writes, r);
    }
  }
  const walker = new TableWalker(targets);
  walker.walk(root, new Set(), type === 'delete');
  const lineage = wantLineage ? new LineageResolver().resolveStatement(root) : undefined;
  let assigned: ColumnAssignment[] | undefined;
  try {
    assigned = type === 'update' || type === 'insert' || type === 'replace' ? new LineageResolver().resolveAssignments(root) : undefined;
  } catch {
    assigned = undefined;
  }
  return {
    reads: walker.tables,
    writes,
    functions: walker.functions,
    hasWhere: root.where !== undefined && root.where !== null,
    ...(lineage !== undefined ? { lineage } : {}),
    ...(assigned !== undefined ? { assigned } : {}),
  };
}
