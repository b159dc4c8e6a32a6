import type { ColumnRef, ObjectRef, RelationCatalog, RelationInfo, RoutineInfo, RoutineSource, Session, Statement, ViewColumn } from '@querygate/core';
import { followRoutine, GatewayError } from '@querygate/core';
import type { PostgresAnalyzer } from '../analysis/PostgresAnalyzer';
import { parsePlpgsqlRoutine } from '../analysis/plpgsql';

/** One relation of a database as its catalog lists it. */
interface Relation {
  readonly schema: string;
  readonly name: string;
  readonly kind: 'table' | 'view';
  readonly columns: readonly string[];
  /** `pg_get_viewdef` with every name schema-qualified; analysed on first use. */
  readonly definition: string | undefined;
  info?: RelationInfo;
}

/** One user-defined routine (all overloads of a name in a schema are separate entries). */
interface Routine {
  readonly schema: string;
  readonly name: string;
  readonly language: string;
  readonly source: string;
  /** An aggregate's support functions (transition, final), which run its per-row code. */
  readonly supports: readonly string[];
}

/** All relations of one database at one moment. */
interface Snapshot {
  readonly byName: Map<string, Relation[]>;
  readonly routines: Map<string, Routine[]>;
  /** Names of the functions in pg_catalog and information_schema. */
  readonly builtins: Set<string>;
  /** Routine answers by the name as called, followed once. */
  readonly followed: Map<string, RoutineInfo>;
  readonly loadedAt: number;
  /** Answers for several same-named relations (an unqualified name), merged once. */
  readonly merged: Map<string, RelationInfo>;
  stale: boolean;
}

/** Runs one catalog query in `database` (Catalog's side connection). */
export type CatalogQuery = (database: string, sql: string) => Promise<(string | null)[][]>;

// In a transaction so SET LOCAL ends with it: the side connection's other look-ups keep their path.
// With only pg_catalog on the path, pg_get_viewdef qualifies every other relation it names.
// Three row shapes in one answer, told apart by the first column: r = relation, f = routine,
// b = a built-in function's name.
const SNAPSHOT_SQL = 'BEGIN READ ONLY; SET LOCAL search_path = pg_catalog; '
  + "SELECT 'r', n.nspname, c.relname, c.relkind, "
  + '(SELECT json_agg(a.attname ORDER BY a.attnum) FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)::text, '
  + "CASE WHEN c.relkind = 'v' AND n.nspname NOT IN ('pg_catalog', 'information_schema') THEN pg_catalog.pg_get_viewdef(c.oid) END "
  + 'FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace '
  + "WHERE c.relkind IN ('r', 'v', 'm', 'f', 'p'); "
  + "SELECT 'f', n.nspname, p.proname, l.lanname, p.prosrc, "
  + "(SELECT concat_ws(',', a.aggtransfn::regproc::text, NULLIF(a.aggfinalfn::regproc::text, '-')) FROM pg_catalog.pg_aggregate a WHERE a.aggfnoid = p.oid) "
  + 'FROM pg_catalog.pg_proc p '
  + 'JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace JOIN pg_catalog.pg_language l ON l.oid = p.prolang '
  + "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'; "
  + "SELECT DISTINCT 'b', NULL, p.proname FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
  + "WHERE n.nspname IN ('pg_catalog', 'information_schema'); COMMIT";
/** Languages whose routines are compiled code installed by a superuser (extensions): no SQL to follow. */
const COMPILED_LANGUAGES: ReadonlySet<string> = new Set(['c', 'internal']);

/** A statement naming a relation the snapshot lacks reloads it, but not more often than this. */
const UNKNOWN_RELOAD_MS = 1000;
/** Snapshots older than this are renewed in the background (DDL that did not pass this gateway). */
const REFRESH_MS = 10_000;
/** Session state: names of relations this session changed by DDL not yet committed. */
const PENDING_DDL = Symbol('postgres.relations.pendingDdl');

/**
 * The relations of a listener's upstream databases, for hooks that follow views to their base
 * columns (masking). One snapshot per database, loaded over the catalog side connection before
 * the first statement of that database is judged, and again after DDL; view definitions come from
 * `pg_get_viewdef` and are analysed with the adapter's own analyser when first asked for.
 *
 * DDL run outside this gateway is seen once a snapshot older than 10 s has been renewed in the
 * background (the next statement after that age starts it).
 *
 * Names are resolved without knowing the session's search_path (PostgreSQL does not report it):
 * an unqualified name that several schemas hold answers all of them merged, which can only mask
 * more. A relation a session changed by DDL it has not committed is unknown to that session (the
 * side connection cannot see the change), so masking's fallback applies to it.
 */
export class PostgresRelations implements RelationCatalog {
  private readonly snapshots = new Map<string, Snapshot>();
  /** The load under way per database, and the count of invalidations it started after. */
  private readonly loading = new Map<string, { readonly promise: Promise<void>; readonly generation: number }>();
  /** Invalidations per database: a load that started before the latest one comes back stale. */
  private readonly changes = new Map<string, number>();
  private loads = 0;

  constructor(private readonly analyzer: PostgresAnalyzer, private readonly query: CatalogQuery) {}

  get version(): number { return this.loads; }

  /**
   * Resolves once `database`'s snapshot is fit to judge `statements`: loaded, not stale, and
   * knowing every relation they read (else reloaded once). Undefined when nothing needs waiting.
   */
  ready(database: string, statements: readonly Statement[]): Promise<void> | undefined {
    const snapshot = this.snapshots.get(database);
    if (snapshot === undefined || snapshot.stale) return this.load(database);
    const age = performance.now() - snapshot.loadedAt;
    if (age < UNKNOWN_RELOAD_MS) return undefined;
    for (const s of statements) {
      if (!knowsAll(snapshot, s)) return this.load(database);
    }
    // DDL made elsewhere (another gateway, a direct migration) is picked up in the background.
    if (age > REFRESH_MS && !this.loading.has(database)) {
      this.load(database).catch(() => undefined);
    }
    return undefined;
  }

  /** After DDL completed in `database`: the next statement judged there waits for a new snapshot. */
  invalidate(database: string): void {
    this.changes.set(database, (this.changes.get(database) ?? 0) + 1);
    const snapshot = this.snapshots.get(database);
    if (snapshot) snapshot.stale = true;
  }

  /** The session ran DDL on these relations in a transaction still open. */
  changedInTransaction(session: Session, relations: readonly ObjectRef[]): void {
    let pending = session.state.get(PENDING_DDL) as Set<string> | undefined;
    if (!pending) { pending = new Set(); session.state.set(PENDING_DDL, pending); }
    for (const r of relations) pending.add(r.name);
  }

  /** The session's transaction ended: its DDL is committed (or gone). */
  transactionEnded(session: Session, database: string): void {
    if (session.state.delete(PENDING_DDL)) this.invalidate(database);
  }

  describe(relation: ObjectRef, session: Session): RelationInfo | undefined {
    const snapshot = this.snapshots.get(session.database);
    if (snapshot === undefined) return undefined;
    const pending = session.state.get(PENDING_DDL) as Set<string> | undefined;
    if (pending?.has(relation.name)) return undefined;
    const candidates = snapshot.byName.get(relation.name);
    if (candidates === undefined) return undefined;
    const schema = relation.schema;
    if (schema !== undefined) {
      // pg_temp names the session's own temporary schema, pg_temp_<n> in the catalog.
      const found = schema === 'pg_temp'
        ? candidates.filter((c) => c.schema.startsWith('pg_temp_'))
        : candidates.filter((c) => c.schema === schema);
      return found.length === 1 ? this.infoOf(found[0]!) : found.length === 0 ? undefined : this.merge(snapshot, `${schema}.${relation.name}`, found);
    }
    return candidates.length === 1 ? this.infoOf(candidates[0]!) : this.merge(snapshot, relation.name, candidates);
  }

  /**
   * What a called routine's body reads. A name that is neither built in nor in the snapshot (made
   * after it was taken, or earlier in the same message), or one this session changed in a
   * transaction still open, cannot be followed.
   */
  routine(name: string, session: Session): RoutineInfo | undefined {
    const snapshot = this.snapshots.get(session.database);
    const bare = name.slice(name.lastIndexOf('.') + 1);
    const pending = session.state.get(PENDING_DDL) as Set<string> | undefined;
    if (pending?.has(bare)) return OPAQUE;
    if (snapshot === undefined) return OPAQUE;
    const followed = followRoutine(name, this.routinesOf(snapshot), snapshot.followed);
    if (followed !== undefined) return followed;
    return knowsFunction(snapshot, name) ? undefined : OPAQUE;
  }

  /**
   * A snapshot's routines for `followRoutine`: a called name's overloads (every schema when
   * unqualified; pg_temp is the session's temporary schema, pg_temp_<n> in the catalog), each body
   * analysed as SQL or PL/pgSQL; an aggregate runs its support functions; `c` / `internal` routines
   * (extensions) have no SQL to follow.
   */
  private routinesOf(snapshot: Snapshot): RoutineSource {
    return {
      bodies: (called) => {
        const dot = called.lastIndexOf('.');
        const schema = dot < 0 ? undefined : called.slice(0, dot);
        if (schema === 'pg_catalog') return [];
        return (snapshot.routines.get(dot < 0 ? called : called.slice(dot + 1)) ?? [])
          .filter((r) => schema === undefined || r.schema === schema || (schema === 'pg_temp' && r.schema.startsWith('pg_temp_')))
          .map((r) => ({ statements: this.bodyStatements(r), calls: r.supports }));
      },
      followable: (s) => s.kind !== 'unknown' && !s.risks.has('unparsed') && !s.risks.has('dynamicSql'),
    };
  }

  private bodyStatements(routine: Routine): readonly Statement[] | undefined {
    if (COMPILED_LANGUAGES.has(routine.language)) return [];
    const statements = routine.language === 'sql' ? this.analyzer.analyze(routine.source)
      : routine.language === 'plpgsql' ? this.plpgsqlStatements(routine.source) : undefined;
    return statements === undefined || statements.length === 0 ? undefined : statements;
  }

  /**
   * What a PL/pgSQL body runs: its static SQL and its expressions. Undefined when it does not parse,
   * or when it runs SQL built at run time (EXECUTE), which no snapshot can follow.
   */
  private plpgsqlStatements(source: string): Statement[] | undefined {
    const body = parsePlpgsqlRoutine(source);
    if (body === undefined || body.dynamic.length > 0) return undefined;
    return [
      ...body.statements.flatMap((sql) => this.analyzer.analyze(sql)),
      ...body.expressions.flatMap((expr) => this.analyzer.analyze(`SELECT ${expr}`)),
    ];
  }

  /**
   * A snapshot read after every invalidation so far: a load that started before the latest one (a
   * background refresh while a session's DDL committed) is waited for, then followed by another,
   * so a statement after its session's own DDL is never judged on the catalog from before it.
   */
  private load(database: string): Promise<void> {
    const generation = this.changes.get(database) ?? 0;
    const under = this.loading.get(database);
    if (under !== undefined) {
      if (under.generation === generation) return under.promise;
      const again = (): Promise<void> => this.load(database);
      return under.promise.then(again, again);
    }
    const pending: Promise<void> = this.query(database, SNAPSHOT_SQL).then((rows) => {
      const byName = new Map<string, Relation[]>();
      const routines = new Map<string, Routine[]>();
      const builtins = new Set<string>();
      for (const [shape, schema, name, relkind, columns, definition] of rows) {
        if (shape === 'b') { if (name) builtins.add(name); continue; }
        if (schema === null || name === null || schema === undefined || name === undefined) continue;
        if (shape === 'f') {
          const routine: Routine = { schema, name, language: relkind ?? '', source: columns ?? '', supports: definition ? definition.split(',') : [] };
          const list = routines.get(name);
          if (list) list.push(routine); else routines.set(name, [routine]);
          continue;
        }
        const relation: Relation = {
          schema, name, kind: relkind === 'v' ? 'view' : 'table',
          columns: columns === null ? [] : (JSON.parse(columns) as string[]),
          definition: definition ?? undefined,
        };
        const list = byName.get(name);
        if (list) list.push(relation); else byName.set(name, [relation]);
      }
      this.loads++;
      const stale = (this.changes.get(database) ?? 0) !== generation;
      this.snapshots.set(database, { byName, routines, builtins, followed: new Map(), loadedAt: performance.now(), merged: new Map(), stale });
    }, (err: unknown) => {
      throw new GatewayError('QG_UPSTREAM_UNAVAILABLE', `the gateway could not read the catalog of database "${database}"`, {
        detail: err instanceof Error ? err.message : String(err),
        cause: err,
      });
    }).finally(() => { if (this.loading.get(database)?.promise === pending) this.loading.delete(database); });
    this.loading.set(database, { promise: pending, generation });
    return pending;
  }

  private infoOf(relation: Relation): RelationInfo {
    if (relation.info) return relation.info;
    relation.info = relation.kind === 'table' || relation.definition === undefined
      ? { kind: 'table', columns: relation.columns }
      : this.analyseView(relation, relation.definition);
    return relation.info;
  }

  /** A view's columns paired by position with its definition's output columns. */
  private analyseView(relation: Relation, definition: string): RelationInfo {
    const statement = this.analyzer.analyze(definition)[0];
    if (statement === undefined || statement.kind !== 'select') {
      return { kind: 'view', columns: relation.columns.map((name) => ({ name, sources: [] })), reads: [], complete: false };
    }
    const reads = new Map<string, ObjectRef>();
    const visit = (s: Statement): void => {
      for (const r of s.reads) reads.set(`${r.schema ?? ''}.${r.name}`, r);
      s.nested?.forEach(visit);
    };
    visit(statement);
    const outputs = statement.lineage.outputs;
    const paired = outputs.length === relation.columns.length && !outputs.some((o) => o.expands === true);
    let columns: ViewColumn[];
    if (paired) {
      columns = relation.columns.map((name, i) => {
        const o = outputs[i]!;
        return { name, sources: o.sources, direct: o.direct && o.sources.length === 1 };
      });
    } else {
      // Lineage that cannot be paired column by column: every column may carry every source.
      const all = outputs.flatMap((o) => o.sources);
      columns = relation.columns.map((name) => ({ name, sources: all }));
    }
    return { kind: 'view', columns, reads: [...reads.values()], complete: paired && statement.lineage.complete };
  }

  /** Same-named relations in several schemas, answered as one (it masks more, never less). */
  private merge(snapshot: Snapshot, key: string, relations: readonly Relation[]): RelationInfo {
    const known = snapshot.merged.get(key);
    if (known) return known;
    const infos = relations.map((r) => ({ relation: r, info: this.infoOf(r) }));
    let info: RelationInfo;
    if (infos.every((i) => i.info.kind === 'table')) {
      info = { kind: 'table', columns: [...new Set(relations.flatMap((r) => r.columns))] };
    } else {
      const sources = new Map<string, ColumnRef[]>();
      const reads: ObjectRef[] = [];
      let complete = true;
      for (const { relation, info: one } of infos) {
        if (one.kind === 'table') {
          reads.push({ schema: relation.schema, name: relation.name });
          for (const column of relation.columns) add(sources, column, [{ schema: relation.schema, table: relation.name, column }]);
        } else {
          reads.push(...one.reads);
          complete &&= one.complete;
          for (const column of one.columns) add(sources, column.name, column.sources);
        }
      }
      info = { kind: 'view', columns: [...sources].map(([name, s]) => ({ name, sources: s })), reads, complete };
    }
    snapshot.merged.set(key, info);
    return info;
  }
}

function add(into: Map<string, ColumnRef[]>, name: string, sources: readonly ColumnRef[]): void {
  const list = into.get(name);
  if (list) list.push(...sources); else into.set(name, [...sources]);
}

/** A routine that cannot be followed: it may read anything. */
const OPAQUE: RoutineInfo = Object.freeze({ reads: Object.freeze([]), complete: false });

/** A built-in, or a user routine of that name; a qualified name must be a built-in's (user ones were followed). */
function knowsFunction(snapshot: Snapshot, name: string): boolean {
  const dot = name.lastIndexOf('.');
  const bare = name.slice(dot + 1);
  if (dot >= 0) {
    const schema = name.slice(0, dot);
    return (schema === 'pg_catalog' || schema === 'information_schema') && snapshot.builtins.has(bare);
  }
  return snapshot.builtins.has(bare) || snapshot.routines.has(bare);
}

function knowsAll(snapshot: Snapshot, statement: Statement): boolean {
  for (const r of statement.reads) if (!snapshot.byName.has(r.name)) return false;
  for (const f of statement.functions) if (!knowsFunction(snapshot, f)) return false;
  const nested = statement.nested;
  if (nested) for (const n of nested) if (!knowsAll(snapshot, n)) return false;
  return true;
}
