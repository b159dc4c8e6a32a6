// Small accessors over libpg-query's JSON parse tree. The tree is plain JSON: a polymorphic node is an
// object with ONE key naming its type (`{ "SelectStmt": {...} }`); a field whose C type is a concrete
// struct (RangeVar, IntoClause, WithClause...) is stored unwrapped.
import type { ObjectRef } from '@querygate/core';
import type { Node, RangeVar } from 'libpg-query';

export type AstObject = Record<string, unknown>;

export function isObject(value: unknown): value is AstObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The type name of a wrapped node (`SelectStmt` for `{ SelectStmt: {...} }`). */
export function tagOf(node: unknown): string | undefined {
  if (!isObject(node)) return undefined;
  for (const key in node) return key;
  return undefined;
}

/** The body of a wrapped node whose tag is known; the cast is sound because the tag names the type. */
export function bodyOf<T>(node: unknown, tag: string): T | undefined {
  if (!isObject(node)) return undefined;
  const body = node[tag];
  return isObject(body) ? (body as T) : undefined;
}

/** `{ String: { sval } }` → sval. */
export function stringOf(node: unknown): string | undefined {
  const s = bodyOf<{ sval?: string }>(node, 'String');
  return s === undefined ? undefined : (s.sval ?? '');
}

/** The String items of a name list (`[{String}, {String}]`), skipping anything else (A_Star). */
export function namesOf(list: readonly Node[] | undefined): string[] {
  const out: string[] = [];
  if (list === undefined) return out;
  for (const item of list) {
    const s = stringOf(item);
    if (s !== undefined) out.push(s);
  }
  return out;
}

/** Items of a `{ List: { items } }` node, or the array itself. */
export function listItems(node: unknown): readonly Node[] {
  if (Array.isArray(node)) return node as Node[];
  const list = bodyOf<{ items?: Node[] }>(node, 'List');
  return list?.items ?? [];
}

export function relationRef(rv: RangeVar): ObjectRef {
  return rv.schemaname !== undefined && rv.schemaname !== ''
    ? { schema: rv.schemaname, name: rv.relname ?? '' }
    : { name: rv.relname ?? '' };
}

/** A qualified name (`[schema, name]`, or `[catalog, schema, name]`) as an ObjectRef. */
export function qualifiedRef(names: readonly string[]): ObjectRef | undefined {
  if (names.length === 0) return undefined;
  const name = names[names.length - 1];
  return names.length >= 2 ? { schema: names[names.length - 2], name } : { name };
}

/** Every object a DDL name node can denote: a name list, a String, ObjectWithArgs, TypeName, RangeVar. */
export function objectRefOf(node: unknown): ObjectRef | undefined {
  const tag = tagOf(node);
  switch (tag) {
    case 'List': return qualifiedRef(namesOf(listItems(node)));
    case 'String': {
      const s = stringOf(node);
      return s === undefined ? undefined : { name: s };
    }
    case 'ObjectWithArgs': return qualifiedRef(namesOf(bodyOf<{ objname?: Node[] }>(node, tag)?.objname));
    case 'TypeName': return qualifiedRef(namesOf(bodyOf<{ names?: Node[] }>(node, tag)?.names));
    case 'RangeVar': {
      const rv = bodyOf<RangeVar>(node, tag);
      return rv === undefined ? undefined : relationRef(rv);
    }
    default: return undefined;
  }
}

export function refKey(ref: ObjectRef): string {
  return ref.schema === undefined ? ref.name : `${ref.schema}.${ref.name}`;
}

/** `OBJECT_FOREIGN_TABLE` → `foreign_table`, with PostgreSQL's own words where the enum abbreviates. */
const OBJECT_WORDS: Readonly<Record<string, string>> = {
  OBJECT_MATVIEW: 'materialized_view',
  OBJECT_FDW: 'foreign_data_wrapper',
  OBJECT_FOREIGN_SERVER: 'server',
  OBJECT_TSDICTIONARY: 'text_search_dictionary',
  OBJECT_TSCONFIGURATION: 'text_search_configuration',
  OBJECT_TSPARSER: 'text_search_parser',
  OBJECT_TSTEMPLATE: 'text_search_template',
  OBJECT_STATISTIC_EXT: 'statistics',
  OBJECT_OPCLASS: 'operator_class',
  OBJECT_OPFAMILY: 'operator_family',
  OBJECT_LARGEOBJECT: 'large_object',
  OBJECT_DOMCONSTRAINT: 'domain',
  OBJECT_TABCONSTRAINT: 'table',
  OBJECT_COLUMN: 'table',
  OBJECT_ATTRIBUTE: 'type',
  OBJECT_PUBLICATION_REL: 'publication',
  OBJECT_PUBLICATION_NAMESPACE: 'publication',
  OBJECT_DEFACL: 'default_privileges',
  OBJECT_PARAMETER_ACL: 'parameter',
};

export function objectWord(objectType: string | undefined): string {
  if (objectType === undefined) return 'object';
  return OBJECT_WORDS[objectType] ?? objectType.replace(/^OBJECT_/, '').toLowerCase();
}

