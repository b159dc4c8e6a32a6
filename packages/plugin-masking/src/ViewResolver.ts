import { capability, type ColumnRef, type ObjectRef, type Session } from '@querygate/core';

/** One column of a view and the base columns that feed it (through expressions, resolved). */
export interface ViewColumn {
  readonly name: string;
  readonly sources: readonly ColumnRef[];
  /**
   * True when the column is its one source unchanged (`SELECT email FROM users`): rules then apply
   * their own strategy; otherwise their `derived` strategy.
   */
  readonly direct?: boolean;
}

/**
 * What the catalog says about a relation a statement names.
 * - `table`: a base table (or anything else whose columns are its own: foreign table, materialized
 *   view — a materialized view's data is a copy, so rules must name its columns to mask them).
 *   `columns`, when given, lets name rules see inside whole-row values.
 * - `view`: its columns' sources and the relations its definition reads, resolved one level (masking
 *   recurses). `complete: false` when the definition's lineage was lost.
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
 * Resolves view definitions from the catalog, for masking. A protocol adapter (or an operator's
 * plugin) provides it under `ViewResolverCapability`; masking looks it up on every plan it builds.
 *
 * `describe` is synchronous: a resolver answers from a catalog snapshot it loads ahead of time
 * (e.g. when the listener's upstream connects, and again when it sees DDL). It returns undefined
 * for a relation the catalog does not know, which masking treats as the `unknownRelations` option
 * says. `version` changes whenever the snapshot does, so cached plans built on an older catalog are
 * not reused.
 */
export interface ViewResolver {
  readonly version?: string | number;
  describe(relation: ObjectRef, session: Session): RelationInfo | undefined;
}

export const ViewResolverCapability = capability<ViewResolver>('masking.view-resolver');
