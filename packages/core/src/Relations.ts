import { capability } from './Plugin';
import type { Session } from './Session';
import type { ColumnRef, ObjectRef, Statement } from './Statement';

/** One column of a view and the base columns that feed it (through expressions, resolved). */
export interface ViewColumn {
  readonly name: string;
  readonly sources: readonly ColumnRef[];
  /**
   * True when the column is its one source unchanged (`SELECT email FROM users`): masking rules
   * then apply their own strategy; otherwise their `derived` strategy.
   */
  readonly direct?: boolean;
}

/**
 * What the database's catalog says about a relation a statement names.
 * - `table`: a base table (or anything else whose columns are its own: foreign table, materialized
 *   view — a materialized view's data is a copy, so rules must name its columns to mask them).
 *   `columns`, when given, lets name rules see inside whole-row values.
 * - `view`: its columns' sources and the relations its definition reads, resolved one level
 *   (consumers recurse). `complete: false` when the definition's lineage was lost.
 */
export type RelationInfo =
  | { readonly kind: 'table'; readonly columns?: readonly string[] }
  | {
    readonly kind: 'view';
    readonly columns: readonly ViewColumn[];
    readonly reads: readonly ObjectRef[];
    readonly complete: boolean;
  };

/**
 * What the catalog says about a routine (function or procedure) a statement calls: its body reads
 * data no statement lineage shows, so a call can return, raise or print values of any table it
 * reads.
 */
export interface RoutineInfo {
  /** Relations its body reads, through the routines it calls in turn. */
  readonly reads: readonly ObjectRef[];
  /** False when the body could not be followed (dynamic SQL, a language the adapter cannot read). */
  readonly complete: boolean;
}

/**
 * The relations one listener's upstream databases hold. `describe` is synchronous: an adapter
 * answers from a snapshot it loads before it hands a statement to the pipeline (and again after
 * DDL), so hooks never wait on the catalog. It returns undefined for a relation the catalog does
 * not know. `version` changes whenever a snapshot does, so answers cached on an older catalog are
 * not reused.
 */
export interface RelationCatalog {
  readonly version: string | number;
  describe(relation: ObjectRef, session: Session): RelationInfo | undefined;
  /**
   * A user-defined routine by the name a statement calls it (`f`, `schema.f`); undefined for a
   * built-in one, or when the catalog keeps no routines.
   */
  routine?(name: string, session: Session): RoutineInfo | undefined;
}

/**
 * The gateway's relation catalogs, one per listener whose adapter keeps one. Provided by the core
 * under `RelationCatalogCapability`; adapters load snapshots only when a plugin asked for this
 * capability at registration (see `ListenerRuntime.relationsWanted`).
 */
export interface RelationCatalogs {
  /** The catalog of the session's listener; undefined when its adapter keeps none. */
  of(session: Session): RelationCatalog | undefined;
}

export const RelationCatalogCapability = capability<RelationCatalogs>('catalog.relations');

/** One user routine's body as an adapter reads it, for `followRoutine`. */
export interface RoutineBody {
  /** What the body runs; undefined when it cannot be read (its language, a privilege, a parse error). */
  readonly statements: readonly Statement[] | undefined;
  /** Relations it reads besides its statements' (e.g. every relation the body names). */
  readonly reads?: readonly ObjectRef[];
  /** Routines it runs besides its statements' functions (an aggregate's support functions). */
  readonly calls?: readonly string[];
}

/** What `followRoutine` needs to know of one catalog snapshot. */
export interface RoutineSource {
  /** Every user routine a called name may be (overloads, every schema when unqualified); none for a built-in. */
  bodies(called: string): readonly RoutineBody[];
  /** False for a statement the walk cannot see through (SQL built at run time, an unparsed one). */
  followable(statement: Statement): boolean;
  /** The name a statement's function is looked up by (default: as written). */
  calledName?(fn: string): string;
  /** The key two reads count as the same relation by (default: schema.name as written). */
  readKey?(relation: ObjectRef): string;
}

/** Routines calling routines: deeper chains count as not followed. */
const MAX_ROUTINE_DEPTH = 8;

/**
 * What a called routine's body reads, through the routines it runs in turn (8 levels; a cycle is
 * cut where it closes). Undefined when the name is no user routine. Whole walks are kept in
 * `cache` (per snapshot): one cut short by a cycle lacks the reads of the routine it came from.
 */
export function followRoutine(called: string, source: RoutineSource, cache: Map<string, RoutineInfo>): RoutineInfo | undefined {
  const nameOf = source.calledName ?? ((fn: string) => fn);
  const keyOf = source.readKey ?? ((r: ObjectRef) => `${r.schema ?? ''}.${r.name}`);
  const visiting = new Set<string>();
  const follow = (name: string, depth: number): RoutineInfo | undefined => {
    const known = cache.get(name);
    if (known) return known;
    const bodies = source.bodies(name);
    if (bodies.length === 0) return undefined;
    if (visiting.has(name) || depth >= MAX_ROUTINE_DEPTH) return { reads: [], complete: depth < MAX_ROUTINE_DEPTH };
    visiting.add(name);
    const reads = new Map<string, ObjectRef>();
    let complete = true;
    const call = (fn: string): void => {
      const inner = follow(fn, depth + 1);
      if (!inner) return;
      complete &&= inner.complete;
      for (const r of inner.reads) reads.set(keyOf(r), r);
    };
    const visit = (s: Statement): void => {
      if (!source.followable(s)) complete = false;
      for (const r of s.reads) reads.set(keyOf(r), r);
      for (const f of s.functions) call(nameOf(f));
      s.nested?.forEach(visit);
    };
    for (const body of bodies) {
      body.calls?.forEach(call);
      if (body.statements === undefined) complete = false;
      else body.statements.forEach(visit);
      for (const r of body.reads ?? []) reads.set(keyOf(r), r);
    }
    visiting.delete(name);
    const info: RoutineInfo = { reads: [...reads.values()], complete };
    if (depth === 0) cache.set(name, info);
    return info;
  };
  return follow(nameOf(called), 0);
}
