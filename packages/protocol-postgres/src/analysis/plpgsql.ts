// Extracts the SQL a PL/pgSQL block runs, with libpg-query's PL/pgSQL parser. A DO body is wrapped in
// a throwaway CREATE FUNCTION because that parser only accepts function definitions.
import { parsePlPgSQLSync } from 'libpg-query';
import { isObject } from './ast';

export interface PlpgsqlBody {
  /** Static SQL statements (parse mode 0: `DELETE ...`, `PERFORM` as `SELECT ...`, FOR-query loops). */
  readonly statements: readonly string[];
  /** Expressions (conditions, assignments, defaults), each to be analysed as `SELECT <expr>`. */
  readonly expressions: readonly string[];
  /** Expressions whose value is executed as SQL (`EXECUTE <expr>`, `FOR ... IN EXECUTE`, `OPEN ... FOR EXECUTE`). */
  readonly dynamic: readonly string[];
}

/** PLpgSQL_expr.parseMode values (RawParseMode): 0 default, 2 expression, 3-5 assignment. */
const RAW_PARSE_DEFAULT = 0;
const RAW_PARSE_ASSIGN_FIRST = 3;

/**
 * Undefined when the body does not parse as PL/pgSQL. `returns` is the wrapper function's result
 * type: the parser checks RETURN forms against it (a DO body returns void; a function's body may
 * need `record` or `SETOF record`).
 */
export function parsePlpgsqlBody(body: string, returns = 'void'): PlpgsqlBody | undefined {
  let tag = 'qg';
  while (body.includes(`$${tag}$`)) tag += '_';
  let tree: unknown;
  try {
    tree = parsePlPgSQLSync(`CREATE FUNCTION querygate_do() RETURNS ${returns} LANGUAGE plpgsql AS $${tag}$${body}$${tag}$`);
  } catch {
    return undefined;
  }
  const statements: string[] = [];
  const expressions: string[] = [];
  const dynamic: string[] = [];
  // `tag` is the PL/pgSQL node whose body is being walked; `dyn` marks an expression executed as SQL.
  const walk = (value: unknown, tag: string | undefined, dyn: boolean): void => {
    if (Array.isArray(value)) { for (const v of value) walk(v, tag, dyn); return; }
    if (!isObject(value)) return;
    for (const key in value) {
      const child = value[key];
      if (key === 'PLpgSQL_expr' && isObject(child) && typeof child.query === 'string') {
        const mode = typeof child.parseMode === 'number' ? child.parseMode : RAW_PARSE_DEFAULT;
        const query = mode >= RAW_PARSE_ASSIGN_FIRST ? assignedValue(child.query) : child.query;
        if (dyn) dynamic.push(query);
        if (mode === RAW_PARSE_DEFAULT) statements.push(query);
        else expressions.push(query);
      } else if (key.startsWith('PLpgSQL_')) {
        walk(child, key, false);
      } else {
        walk(child, tag, key === 'dynquery' || (key === 'query' && tag !== undefined && tag.startsWith('PLpgSQL_stmt_dyn')));
      }
    }
  };
  walk(tree, undefined, false);
  return { statements, expressions, dynamic };
}

/** `target := value` (or `target = value`) → value. The target is a (possibly subscripted) variable. */
function assignedValue(assignment: string): string {
  const walrus = assignment.indexOf(':=');
  if (walrus >= 0) return assignment.slice(walrus + 2);
  const eq = assignment.indexOf('=');
  return eq >= 0 ? assignment.slice(eq + 1) : assignment;
}

/**
 * A function's PL/pgSQL body, whatever it returns: the parser checks RETURN forms against the
 * result type, so the body is tried as returning void, a record, then a set.
 */
export function parsePlpgsqlRoutine(body: string): PlpgsqlBody | undefined {
  for (const returns of ['void', 'record', 'SETOF record']) {
    const parsed = parsePlpgsqlBody(body, returns);
    if (parsed !== undefined) return parsed;
  }
  return undefined;
}
