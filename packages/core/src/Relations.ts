import { capability } from './Plugin';
import type { Session } from './Session';
import type { ColumnRef, ObjectRef } from './Statement';

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
