// One walk over a statement's parse tree that gathers what policy matches on: the tables read, the
// tables written by DML anywhere in it (data-modifying CTEs included), every function called and the
// risks those calls and DML carry. CTE names are scoped the way PostgreSQL scopes them, so a CTE cannot
// hide a real table of the same name elsewhere in the statement.
import type {
  A_Const, CommonTableExpr, DeleteStmt, FuncCall, MergeStmt, MergeWhenClause, Node, RangeVar, UpdateStmt, WithClause,
} from 'libpg-query';
import { bodyOf, isObject, namesOf, relationRef, tagOf, type AstObject } from './ast';
import { Facts, type DmlKind } from './Facts';
import { PRIVILEGE_SETTINGS, SQL_TEXT_FUNCTIONS, baseName, functionRisk } from './functionRisks';

export interface CollectOptions {
  /** RangeVar objects that are write targets (classified by the caller), not reads. */
  readonly targets: ReadonlySet<unknown>;
  /** Subtrees not executed by this statement (a PREPARE's or plain EXPLAIN's query). */
  readonly skip: ReadonlySet<unknown>;
}

const DML_TAGS: Readonly<Record<string, DmlKind>> = {
  InsertStmt: 'insert', UpdateStmt: 'update', DeleteStmt: 'delete', MergeStmt: 'merge',
};

export function collect(root: unknown, facts: Facts, options: CollectOptions): void {
  const targets = new Set<unknown>(options.targets);
  const skip = options.skip;

  const rangeVar = (rv: RangeVar, ctes: ReadonlySet<string>): void => {
    if (targets.has(rv)) return;
    const schema = rv.schemaname;
    if ((schema === undefined || schema === '') && ctes.has(rv.relname ?? '')) return;
    facts.read(relationRef(rv));
  };

  const walkWith = (w: WithClause, outer: ReadonlySet<string>): ReadonlySet<string> => {
    const ctes = w.ctes ?? [];
    const names = ctes.map((c) => bodyOf<CommonTableExpr>(c, 'CommonTableExpr')?.ctename ?? '');
    const all = new Set([...outer, ...names]);
    let visible = new Set(outer);
    ctes.forEach((cte, i) => {
      walk(cte, w.recursive === true ? all : visible);
      visible = new Set(visible).add(names[i]);
    });
    return all;
  };

  const walk = (value: unknown, ctes: ReadonlySet<string>): void => {
    if (Array.isArray(value)) {
      for (const item of value) walk(item, ctes);
      return;
    }
    if (!isObject(value) || skip.has(value)) return;
    let scope = ctes;
    if (isObject(value.withClause)) scope = walkWith(value.withClause as WithClause, ctes);
    for (const key in value) {
      if (key === 'withClause') continue;
      const child = value[key];
      if (typeof child !== 'object' || child === null) continue;
      if (key === 'RangeVar') { rangeVar(child as RangeVar, scope); continue; }
      // CALL's `funccall` is stored unwrapped.
      if (key === 'FuncCall' || key === 'funccall') functionCall(child as FuncCall, facts);
      // `CREATE TABLE t AS EXECUTE p`: the prepared statement's text is not in this message.
      if (key === 'ExecuteStmt') facts.risks.add('dynamicSql');
      const dml = DML_TAGS[key];
      if (dml !== undefined) dmlStatement(dml, child as AstObject, facts, targets);
      if (isObject(child) && typeof child.relname === 'string') { rangeVar(child as RangeVar, scope); continue; }
      walk(child, scope);
    }
  };

  walk(root, new Set());
}

function dmlStatement(kind: DmlKind, stmt: AstObject, facts: Facts, targets: Set<unknown>): void {
  facts.dml.add(kind);
  const relation = stmt.relation as RangeVar | undefined;
  if (relation !== undefined) {
    targets.add(relation);
    facts.write(relationRef(relation));
  }
  if (kind === 'update' || kind === 'delete') {
    const where = (stmt as UpdateStmt | DeleteStmt).whereClause;
    if (where === undefined) { facts.risks.add('noWhere'); return; }
    const probe = { literals: false };
    const truth = constantTruth(where, probe);
    const constant = !hasReference(where);
    if (probe.literals || constant) facts.literalSensitive = true;
    // A constant condition we cannot evaluate (`WHERE 5 > 3`) is treated as possibly true.
    if (truth === true || (constant && truth === undefined)) facts.risks.add('noWhere');
  } else if (kind === 'merge') {
    const merge = stmt as MergeStmt;
    const on = merge.joinCondition;
    if (on !== undefined && !hasReference(on)) {
      facts.literalSensitive = true;
      const destructive = (merge.mergeWhenClauses ?? []).some((c) => {
        const when = bodyOf<MergeWhenClause>(c, 'MergeWhenClause');
        return when?.condition === undefined
          && (when?.commandType === 'CMD_DELETE' || when?.commandType === 'CMD_UPDATE');
      });
      if (destructive && constantTruth(on, { literals: false }) !== false) facts.risks.add('noWhere');
    }
  }
}

/** Lower-case name as written; SQL-syntax calls (`extract`, `AT TIME ZONE`) lose their implicit pg_catalog. */
/**
 * `schema.name` as the parser resolved it: unquoted parts are folded already, quoted ones keep
 * their case (`"UPPER"` is not `upper`), and a part holding a dot or quote is quoted again so it
 * cannot pass for a schema-qualified name (`"pg_catalog.lower"`).
 */
export function functionName(call: FuncCall): string {
  let names = namesOf(call.funcname);
  if (call.funcformat === 'COERCE_SQL_SYNTAX' && names[0] === 'pg_catalog') names = names.slice(1);
  return names.map((n) => (/[."]/.test(n) ? `"${n.replace(/"/g, '""')}"` : n)).join('.');
}

function functionCall(call: FuncCall, facts: Facts): void {
  const name = functionName(call);
  facts.functions.add(name);
  const risk = functionRisk(name);
  if (risk !== undefined) facts.risks.add(risk);
  const base = baseName(name);
  const args = (call.args ?? []).map(unnamed);
  if (SQL_TEXT_FUNCTIONS.has(base)) {
    facts.literalSensitive = true;
    for (const arg of args) {
      const text = stringConstant(arg);
      if (text !== undefined) facts.sqlTexts.push(text);
    }
  }
  if (base === 'set_config') {
    facts.literalSensitive = true;
    const setting = stringConstant(args[0]);
    if (setting === undefined || PRIVILEGE_SETTINGS.has(setting.trim().toLowerCase())) facts.risks.add('privilegeChange');
  }
}

function unnamed(arg: Node): Node {
  return bodyOf<{ arg?: Node }>(arg, 'NamedArgExpr')?.arg ?? arg;
}

/** The value of a string constant, looking through casts (`'role'::text`). */
export function stringConstant(node: unknown): string | undefined {
  const cast = bodyOf<{ arg?: Node }>(node, 'TypeCast');
  if (cast !== undefined) return stringConstant(cast.arg);
  const c = bodyOf<A_Const>(node, 'A_Const');
  return c?.sval === undefined ? undefined : (c.sval.sval ?? '');
}

/** Whether an expression refers to anything but constants (a column, parameter, subquery, function). */
export function hasReference(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(hasReference);
  if (!isObject(node)) return false;
  for (const key in node) {
    if (key === 'ColumnRef' || key === 'ParamRef' || key === 'SubLink' || key === 'FuncCall'
      || key === 'CurrentOfExpr' || key === 'SQLValueFunction') return true;
    const child = node[key];
    if (typeof child === 'object' && child !== null && hasReference(child)) return true;
  }
  return false;
}

const TRUE_WORDS = new Set(['t', 'tr', 'tru', 'true', 'y', 'ye', 'yes', 'on', '1']);
const FALSE_WORDS = new Set(['f', 'fa', 'fal', 'fals', 'false', 'n', 'no', 'off', '0']);

/**
 * Evaluates a condition that is obviously constant (`true`, `1 = 1`, `'t'::boolean`, `x = 1 OR true`);
 * undefined otherwise. `probe.literals` is set when a literal's value decided the result.
 */
export function constantTruth(node: unknown, probe: { literals: boolean }): boolean | undefined {
  const tag = tagOf(node);
  if (tag === 'A_Const') {
    const c = bodyOf<A_Const>(node, tag);
    if (c?.boolval !== undefined) return c.boolval.boolval === true;
    return undefined;
  }
  if (tag === 'TypeCast') {
    const cast = bodyOf<{ arg?: Node; typeName?: { names?: Node[] } }>(node, tag);
    const type = namesOf(cast?.typeName?.names).pop();
    const text = stringConstant(cast?.arg)?.trim().toLowerCase();
    if ((type === 'bool' || type === 'boolean') && text !== undefined) {
      probe.literals = true;
      if (TRUE_WORDS.has(text)) return true;
      if (FALSE_WORDS.has(text)) return false;
    }
    return constantTruth(cast?.arg, probe);
  }
  if (tag === 'BoolExpr') {
    const b = bodyOf<{ boolop?: string; args?: Node[] }>(node, tag);
    const values = (b?.args ?? []).map((a) => constantTruth(a, probe));
    if (b?.boolop === 'NOT_EXPR') return values[0] === undefined ? undefined : !values[0];
    if (b?.boolop === 'AND_EXPR') {
      if (values.some((v) => v === false)) return false;
      return values.every((v) => v === true) ? true : undefined;
    }
    if (values.some((v) => v === true)) return true;
    return values.every((v) => v === false) ? false : undefined;
  }
  if (tag === 'A_Expr') {
    const e = bodyOf<{ kind?: string; name?: Node[]; lexpr?: Node; rexpr?: Node }>(node, tag);
    const op = namesOf(e?.name).pop();
    if (e?.kind !== 'AEXPR_OP' || (op !== '=' && op !== '<>' && op !== '!=')) return undefined;
    const l = constantValue(e.lexpr);
    const r = constantValue(e.rexpr);
    if (l === undefined || r === undefined) return undefined;
    probe.literals = true;
    return op === '=' ? l === r : l !== r;
  }
  return undefined;
}

function constantValue(node: unknown): string | undefined {
  const c = bodyOf<A_Const>(node, 'A_Const');
  if (c === undefined || c.isnull === true) return undefined;
  if (c.ival !== undefined) return String(c.ival.ival ?? 0);
  if (c.fval !== undefined) return String(Number(c.fval.fval));
  if (c.sval !== undefined) return `'${c.sval.sval ?? ''}`;
  if (c.boolval !== undefined) return String(c.boolval.boolval === true);
  return undefined;
}
