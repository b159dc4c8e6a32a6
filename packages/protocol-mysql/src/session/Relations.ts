import type { Socket } from 'node:net';
import type {
  ColumnRef, ObjectRef, RelationCatalog, RelationInfo, RoutineBody, RoutineInfo, RoutineSource, Session, Statement, UpstreamConfig, ViewColumn,
} from '@querygate/core';
import { followRoutine, GatewayError } from '@querygate/core';
import type { MysqlAnalyzer } from '../analysis/MysqlAnalyzer';
import { Capability, Command, Header } from '../codec/constants';
import { parseErr } from '../codec/parser';
import { PayloadReader } from '../codec/PayloadReader';
import { frame, textCommand } from '../codec/serializer';
import { PacketInbox } from './PacketInbox';
import { UpstreamConnection } from './UpstreamConnection';

/** Rows of one text-protocol result: each value as text, or null. */
export type CatalogRowSet = (string | null)[][];

/** What `information_schema` lists, as three result sets. */
export interface CatalogRows {
  /** TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE of every relation the upstream user can see. */
  readonly relations: CatalogRowSet;
  /** TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME in ORDINAL_POSITION order (user schemas). */
  readonly columns: CatalogRowSet;
  /** TABLE_SCHEMA, TABLE_NAME, VIEW_DEFINITION of user views. */
  readonly views: CatalogRowSet;
  /** ROUTINE_SCHEMA, ROUTINE_NAME, ROUTINE_DEFINITION of user functions and procedures (absent: none read). */
  readonly routines?: CatalogRowSet;
}

/**
 * Schemas whose relations are always tables to masking: the server's own, never user data. Their
 * views (sys's, information_schema's) are not analysed, and their names need no snapshot (the
 * gateway's upstream user may not even see `mysql.*`).
 */
const SYSTEM_SCHEMAS: ReadonlySet<string> = new Set(['information_schema', 'performance_schema', 'mysql', 'sys']);
const SYSTEM_LIST = [...SYSTEM_SCHEMAS].map((s) => `'${s}'`).join(', ');

const RELATIONS_SQL = 'SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES';
const COLUMNS_SQL = 'SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS '
  + `WHERE TABLE_SCHEMA NOT IN (${SYSTEM_LIST}) ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`;
const VIEWS_SQL = 'SELECT TABLE_SCHEMA, TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS '
  + `WHERE TABLE_SCHEMA NOT IN (${SYSTEM_LIST})`;
const ROUTINES_SQL = 'SELECT ROUTINE_SCHEMA, ROUTINE_NAME, ROUTINE_DEFINITION FROM information_schema.ROUTINES '
  + `WHERE ROUTINE_SCHEMA NOT IN (${SYSTEM_LIST})`;
/** Commands that change a stored routine (the analyser calls them procedural, not ddl). */
const ROUTINE_DDL = /^(create|alter|drop)_(function|procedure)$/;
const DYNAMIC_COMMANDS: ReadonlySet<string> = new Set(['execute', 'execute_immediate']);
/** A word of a routine body: a relation named anywhere in it counts as read. */
const WORD = /`((?:[^`]|``)+)`|([A-Za-z_$][\w$]*)/g;

/** A statement naming a relation the snapshot lacks reloads it, but not more often than this. */
const UNKNOWN_RELOAD_MS = 1000;
/** Snapshots older than this are renewed in the background (DDL that did not pass this gateway). */
const REFRESH_MS = 10_000;
/** Bound on reading the catalog once logged in (a huge server's information_schema is slow). */
const READ_TIMEOUT_MS = 30_000;
const MAX_PAYLOAD = 1 << 30;
/** utf8mb4_general_ci: names come back as UTF-8. */
const UTF8MB4 = 45;

/** Session state: lower-case names of this session's temporary tables (no other connection sees them). */
const TEMPORARY = Symbol('mysql.relations.temporary');
/** Session state: names DDL in the message being run changes, unknown to it until the snapshot is renewed. */
const CHANGING = Symbol('mysql.relations.changing');

const TABLE: RelationInfo = Object.freeze({ kind: 'table' });
const CREATE_TEMPORARY = /^\s*create\s+(?:or\s+replace\s+)?temporary\s+table\b/i;
/** A backtick-quoted `a`.`b` or `a`.`b`.`c`, as MariaDB prints every name in a view definition. */
const QUALIFIED_NAME = /`((?:[^`]|``)+)`\s*\.\s*`((?:[^`]|``)+)`(?:\s*\.\s*`(?:[^`]|``)+`)?/g;

/** One relation as `information_schema` lists it. */
interface Relation {
  readonly schema: string;
  readonly name: string;
  readonly kind: 'table' | 'view';
  readonly columns: string[];
  definition: string | undefined;
  /** Once analysed; null for a view whose definition says nothing usable (unknown to masking). */
  info?: RelationInfo | null;
}

/** One stored function or procedure; `body` null when the upstream user may not see it. */
interface Routine {
  readonly schema: string;
  readonly name: string;
  readonly body: string | null;
}

/** Every relation of the server at one moment. */
interface Snapshot {
  /** By lower-case name: MySQL's name case depends on the server's lower_case_table_names. */
  readonly byName: Map<string, Relation[]>;
  /** Stored routines by lower-case name. */
  readonly routines: Map<string, Routine[]>;
  /** Routine answers by the name as called, followed once. */
  readonly followed: Map<string, RoutineInfo>;
  readonly loadedAt: number;
  /** Answers for several same-named relations, merged once (null: one of them is unknown). */
  readonly merged: Map<string, RelationInfo | null>;
  stale: boolean;
}

/**
 * The relations of a MySQL/MariaDB listener's upstream, for hooks that follow views to their base
 * columns (masking). A session may read any schema of the server (and switch with USE), so there is
 * one snapshot per listener: every table and view `information_schema` shows querygate's own
 * upstream user, their columns, and each user view's VIEW_DEFINITION (which the server prints with
 * every name qualified and backticked). Definitions are analysed with the adapter's own analyser
 * when first asked for.
 *
 * Names are resolved without trusting the session's current schema (USE and COM_INIT_DB change
 * it, stored programs too): an unqualified name that several schemas hold answers all of them
 * merged, which can only mask more. A qualified name the schema does not hold is answered by the
 * views of that name in other schemas, because MariaDB names a view column's origin with the view's
 * name but the schema of the base table behind it. The server's own schemas are tables; a session's temporary tables, which
 * `information_schema` does not show to other connections, are tables to that session.
 */
export class MysqlRelations implements RelationCatalog {
  private snapshot: Snapshot | undefined;
  /** The load under way, and the count of DDL completions it started after. */
  private loading: { readonly promise: Promise<void>; readonly generation: number } | undefined;
  private loads = 0;
  /** Counts DDL completions, so a load that started before one comes back stale. */
  private changes = 0;

  constructor(private readonly analyzer: MysqlAnalyzer, private readonly read: () => Promise<CatalogRows>) {}

  get version(): number { return this.loads; }

  /**
   * Resolves once the snapshot is fit to judge `statements`: loaded, not stale, and knowing every
   * relation they read (else reloaded, at most once a second). Undefined when nothing needs waiting.
   * Rejects with a GatewayError when the catalog cannot be read.
   */
  ready(session: Session, statements: readonly Statement[]): Promise<void> | undefined {
    // Commands run one at a time: what an earlier message marked is over.
    if (session.state.has(CHANGING)) session.state.delete(CHANGING);
    if (statements.length > 1) this.markChanging(session, statements);
    const snapshot = this.snapshot;
    if (snapshot === undefined || snapshot.stale) return this.load();
    const age = performance.now() - snapshot.loadedAt;
    if (age < UNKNOWN_RELOAD_MS) return undefined;
    for (const s of statements) {
      if (!this.knowsAll(snapshot, s, session)) return this.load();
    }
    // DDL made elsewhere (another gateway, a migration run directly) is picked up in the background.
    if (age > REFRESH_MS && this.loading === undefined) this.load().catch(() => undefined);
    return undefined;
  }

  /** True when running `statements` may change what the catalog says: call `completed` after them. */
  changesRelations(statements: readonly Statement[]): boolean {
    for (const s of statements) if (isChange(s)) return true;
    return false;
  }

  /**
   * `statements` ran (whether or not they succeeded; an extra reload costs less than a missed
   * change): DDL makes the snapshot stale, so the next statement judged waits for a new one.
   */
  completed(session: Session, statements: readonly Statement[]): void {
    session.state.delete(CHANGING);
    if (!this.noteChanges(session, statements)) return;
    this.changes++;
    if (this.snapshot) this.snapshot.stale = true;
  }

  describe(relation: ObjectRef, session: Session): RelationInfo | undefined {
    const key = relation.name.toLowerCase();
    const changing = session.state.get(CHANGING) as Set<string> | undefined;
    if (changing?.has(key)) return undefined;
    const schema = relation.schema?.toLowerCase();
    if (schema !== undefined && SYSTEM_SCHEMAS.has(schema)) return TABLE;
    const snapshot = this.snapshot;
    if (snapshot === undefined) return undefined;
    const candidates = snapshot.byName.get(key);
    if (candidates === undefined) return isTemporary(session, key) ? TABLE : undefined;
    let info: RelationInfo | null;
    const found = schema === undefined ? candidates : candidates.filter((c) => c.schema.toLowerCase() === schema);
    if (found.length === 1) info = this.infoOf(found[0]!, snapshot);
    else if (found.length > 1) info = this.merge(snapshot, `${schema ?? ''}.${key}`, found);
    else {
      // The schema does not hold it: a view column's origin (schema of the base table, name of the
      // view), answered by the views of that name; anything else is unknown.
      const views = candidates.filter((c) => c.kind === 'view');
      info = views.length === 0 ? null : views.length === 1 ? this.infoOf(views[0]!, snapshot) : this.merge(snapshot, `*.${key}`, views);
    }
    return info ?? undefined;
  }

  routine(name: string, session: Session): RoutineInfo | undefined {
    const snapshot = this.snapshot;
    const called = name.toLowerCase();
    // Created or replaced earlier in the same message: its body is not in the snapshot yet.
    const changing = session.state.get(CHANGING) as Set<string> | undefined;
    if (changing?.has(called.slice(called.lastIndexOf('.') + 1).replace(/`/g, ''))) return { reads: [], complete: false };
    return snapshot === undefined ? undefined : followRoutine(called, this.routinesOf(snapshot), snapshot.followed);
  }

  /**
   * A snapshot's routines for `followRoutine`: a called name's routines (every schema, when
   * unqualified). The analyser splits a compound body (BEGIN ... END) into pieces it does not all
   * understand, so besides the reads it finds, any relation the body names counts as read: more,
   * never less. Dynamic SQL (PREPARE / EXECUTE) or a body the upstream user may not see cannot be
   * followed.
   */
  private routinesOf(snapshot: Snapshot): RoutineSource {
    return {
      bodies: (called) => {
        const dot = called.lastIndexOf('.');
        const schema = dot < 0 ? undefined : called.slice(0, dot).replace(/`/g, '');
        const name = (dot < 0 ? called : called.slice(dot + 1)).replace(/`/g, '');
        return (snapshot.routines.get(name) ?? [])
          .filter((r) => schema === undefined || r.schema.toLowerCase() === schema)
          .map((r) => this.bodyOf(r, snapshot));
      },
      followable: (s) => !s.risks.has('dynamicSql'),
      calledName: (fn) => fn.toLowerCase(),
      readKey: (r) => `${r.schema ?? ''}.${r.name}`.toLowerCase(),
    };
  }

  private bodyOf(routine: Routine, snapshot: Snapshot): RoutineBody {
    const body = routine.body;
    if (body === null || body === '') return { statements: undefined };
    const statements = /^\s*return\b/i.test(body) ? this.analyzer.analyze(`SELECT ${body.replace(/^\s*return\b/i, '')}`) : this.analyzer.analyze(body);
    const reads: ObjectRef[] = [];
    for (const m of body.matchAll(WORD)) {
      const word = (m[1]?.replace(/``/g, '`') ?? m[2] ?? '').toLowerCase();
      for (const r of snapshot.byName.get(word) ?? []) {
        if (!SYSTEM_SCHEMAS.has(r.schema.toLowerCase())) reads.push({ schema: r.schema, name: r.name });
      }
    }
    return { statements, reads };
  }

  private knowsAll(snapshot: Snapshot, statement: Statement, session: Session): boolean {
    for (const r of statement.reads) if (!knows(snapshot, r, session)) return false;
    const nested = statement.nested;
    if (nested) for (const n of nested) if (!this.knowsAll(snapshot, n, session)) return false;
    return true;
  }

  /**
   * A message that changes a relation and goes on to other statements has them judged before the
   * change is made: to those, the changed relations are unknown (masking's fallback applies)
   * rather than answered with what the snapshot held before.
   */
  private markChanging(session: Session, statements: readonly Statement[]): void {
    for (let i = 0; i < statements.length - 1; i++) {
      const s = statements[i]!;
      if (!isChange(s)) continue;
      let names = session.state.get(CHANGING) as Set<string> | undefined;
      if (!names) { names = new Set(); session.state.set(CHANGING, names); }
      addWrites(names, s);
    }
  }

  /**
   * Remembers the temporary tables `statements` create (only this session sees them). True when
   * they hold other DDL, which may change what the catalog says.
   */
  private noteChanges(session: Session, statements: readonly Statement[]): boolean {
    let changed = false;
    for (const s of statements) {
      if (s.nested !== undefined && this.noteChanges(session, s.nested)) changed = true;
      if (s.kind !== 'ddl') { if (ROUTINE_DDL.test(s.command) || DYNAMIC_COMMANDS.has(s.command)) changed = true; continue; }
      if (s.command !== 'create_table' || !CREATE_TEMPORARY.test(s.text)) { changed = true; continue; }
      let names = session.state.get(TEMPORARY) as Set<string> | undefined;
      if (!names) { names = new Set(); session.state.set(TEMPORARY, names); }
      for (const w of s.writes) names.add(w.name.toLowerCase());
    }
    return changed;
  }

  /**
   * A snapshot read after every DDL completed so far: a load that started before the latest one
   * (a background refresh) is waited for, then followed by another, so a session's statement after
   * its own DDL is never judged on what the catalog said before it.
   */
  private load(): Promise<void> {
    const under = this.loading;
    if (under !== undefined) {
      if (under.generation === this.changes) return under.promise;
      const again = (): Promise<void> => this.load();
      return under.promise.then(again, again);
    }
    const generation = this.changes;
    const pending = this.read().then((rows) => {
      this.loads++;
      this.snapshot = { byName: snapshotOf(rows), routines: routinesOf(rows), followed: new Map(), loadedAt: performance.now(), merged: new Map(), stale: this.changes !== generation };
    }, (err: unknown) => {
      throw new GatewayError('QG_UPSTREAM_UNAVAILABLE', 'the gateway could not read the upstream catalog (information_schema)', {
        detail: err instanceof Error ? err.message : String(err),
        cause: err,
      });
    }).finally(() => { if (this.loading?.promise === pending) this.loading = undefined; });
    this.loading = { promise: pending, generation };
    return pending;
  }

  private infoOf(relation: Relation, snapshot: Snapshot): RelationInfo | null {
    if (relation.info !== undefined) return relation.info;
    relation.info = relation.kind === 'table' ? { kind: 'table', columns: relation.columns } : this.analyseView(relation, snapshot);
    relation.definition = undefined;
    return relation.info;
  }

  /**
   * A view's columns paired by position with its definition's output columns. Its reads are the
   * analyser's plus every qualified name in the text that the snapshot knows, so a definition the
   * analyser follows only in part still names what it reads (and is then incomplete). A column of
   * an incomplete view may carry any source of the view, including whole rows of what it reads.
   */
  private analyseView(relation: Relation, snapshot: Snapshot): RelationInfo | null {
    const definition = relation.definition ?? '';
    const statements = definition === '' ? [] : this.analyzer.analyze(definition);
    const statement = statements.length === 1 ? statements[0]! : undefined;
    const reads = new Map<string, ObjectRef>();
    const visit = (s: Statement): void => {
      for (const r of s.reads) reads.set(refKey(r.schema, r.name), r);
      s.nested?.forEach(visit);
    };
    statements.forEach(visit);
    let complete = statement !== undefined && statement.kind === 'select' && statement.lineage.complete;
    for (const r of namedIn(definition, snapshot)) {
      const k = refKey(r.schema, r.name);
      if (reads.has(k)) continue;
      reads.set(k, r);
      complete = false;
    }
    const outputs = statement?.lineage.outputs ?? [];
    const paired = outputs.length === relation.columns.length && !outputs.some((o) => o.expands === true);
    complete &&= paired;
    // Nothing known about what it reads (no definition shown to this user, or an unreadable one).
    if (reads.size === 0 && !complete) return null;
    let columns: ViewColumn[];
    if (complete) {
      columns = relation.columns.map((name, i) => {
        const o = outputs[i]!;
        return { name, sources: o.sources, direct: o.direct && o.sources.length === 1 };
      });
    } else {
      const any: ColumnRef[] = outputs.flatMap((o) => o.sources);
      for (const r of reads.values()) any.push({ schema: r.schema, table: r.name, column: '*' });
      columns = relation.columns.map((name, i) => ({ name, sources: paired ? [...outputs[i]!.sources, ...any] : any }));
    }
    return { kind: 'view', columns, reads: [...reads.values()], complete };
  }

  /** Same-named relations in several schemas, answered as one (it masks more, never less). */
  private merge(snapshot: Snapshot, key: string, relations: readonly Relation[]): RelationInfo | null {
    const known = snapshot.merged.get(key);
    if (known !== undefined) return known;
    const infos: { relation: Relation; info: RelationInfo }[] = [];
    for (const relation of relations) {
      const info = this.infoOf(relation, snapshot);
      if (info === null) {
        snapshot.merged.set(key, null);
        return null;
      }
      infos.push({ relation, info });
    }
    let info: RelationInfo;
    if (infos.every((i) => i.info.kind === 'table')) {
      info = { kind: 'table', columns: [...new Set(relations.flatMap((r) => r.columns))] };
    } else {
      const columns = new Map<string, { name: string; sources: ColumnRef[]; direct: boolean }>();
      const add = (name: string, sources: readonly ColumnRef[], direct: boolean): void => {
        const k = name.toLowerCase();
        const entry = columns.get(k);
        if (entry) { entry.sources.push(...sources); entry.direct = false; } else columns.set(k, { name, sources: [...sources], direct });
      };
      const reads: ObjectRef[] = [];
      let complete = true;
      for (const { relation, info: one } of infos) {
        if (one.kind === 'table') {
          reads.push({ schema: relation.schema, name: relation.name });
          for (const column of relation.columns) add(column, [{ schema: relation.schema, table: relation.name, column }], true);
        } else {
          reads.push(...one.reads);
          complete &&= one.complete;
          for (const column of one.columns) add(column.name, column.sources, column.direct === true);
        }
      }
      info = {
        kind: 'view',
        columns: [...columns.values()].map((c) => ({ name: c.name, sources: c.sources, direct: c.direct && c.sources.length === 1 })),
        reads,
        complete,
      };
    }
    snapshot.merged.set(key, info);
    return info;
  }
}

function refKey(schema: string | undefined, name: string): string {
  return `${(schema ?? '').toLowerCase()}.${name.toLowerCase()}`;
}

function knows(snapshot: Snapshot, ref: ObjectRef, session: Session): boolean {
  const schema = ref.schema?.toLowerCase();
  if (schema !== undefined && SYSTEM_SCHEMAS.has(schema)) return true;
  const key = ref.name.toLowerCase();
  const candidates = snapshot.byName.get(key);
  if (candidates !== undefined) {
    if (schema === undefined) return true;
    for (const c of candidates) if (c.schema.toLowerCase() === schema) return true;
  }
  if (isTemporary(session, key)) return true;
  const changing = session.state.get(CHANGING) as Set<string> | undefined;
  return changing?.has(key) === true;
}

/** DDL, here or in a nested statement (EXECUTE IMMEDIATE, a PREPARE'd text). */
function isChange(statement: Statement): boolean {
  // SQL-level EXECUTE may run any DDL (PREPARE of a CREATE FUNCTION): renew after it too.
  if (statement.kind === 'ddl' || ROUTINE_DDL.test(statement.command) || DYNAMIC_COMMANDS.has(statement.command)) return true;
  const nested = statement.nested;
  if (nested) for (const n of nested) if (isChange(n)) return true;
  return false;
}

function isTemporary(session: Session, key: string): boolean {
  const names = session.state.get(TEMPORARY) as Set<string> | undefined;
  return names?.has(key) === true;
}

function addWrites(into: Set<string>, statement: Statement): void {
  for (const w of statement.writes) into.add(w.name.toLowerCase());
  statement.nested?.forEach((n) => addWrites(into, n));
}

/** The relations a definition names `schema`.`relation` (or `schema`.`relation`.`column`) that the snapshot holds. */
function namedIn(definition: string, snapshot: Snapshot): ObjectRef[] {
  const out: ObjectRef[] = [];
  for (const m of definition.matchAll(QUALIFIED_NAME)) {
    const schema = m[1]!.replace(/``/g, '`');
    const name = m[2]!.replace(/``/g, '`');
    const found = snapshot.byName.get(name.toLowerCase())?.find((c) => c.schema.toLowerCase() === schema.toLowerCase());
    if (found) out.push({ schema: found.schema, name: found.name });
  }
  return out;
}

function snapshotOf(rows: CatalogRows): Map<string, Relation[]> {
  const byName = new Map<string, Relation[]>();
  const exact = new Map<string, Relation>();
  for (const [schema, name, type] of rows.relations) {
    if (schema === null || name === null) continue;
    const system = SYSTEM_SCHEMAS.has(schema.toLowerCase());
    const relation: Relation = { schema, name, kind: type === 'VIEW' && !system ? 'view' : 'table', columns: [], definition: undefined };
    const key = name.toLowerCase();
    const list = byName.get(key);
    if (list) list.push(relation); else byName.set(key, [relation]);
    exact.set(`${schema}\u0000${name}`, relation);
  }
  for (const [schema, name, column] of rows.columns) {
    if (schema === null || name === null || column === null) continue;
    exact.get(`${schema}\u0000${name}`)?.columns.push(column);
  }
  for (const [schema, name, definition] of rows.views) {
    if (schema === null || name === null) continue;
    const relation = exact.get(`${schema}\u0000${name}`);
    if (relation) relation.definition = definition ?? undefined;
  }
  return byName;
}

function routinesOf(rows: CatalogRows): Map<string, Routine[]> {
  const routines = new Map<string, Routine[]>();
  for (const [schema, name, body] of rows.routines ?? []) {
    if (schema === null || name === null) continue;
    const key = name.toLowerCase();
    const routine: Routine = { schema, name, body };
    const list = routines.get(key);
    if (list) list.push(routine); else routines.set(key, [routine]);
  }
  return routines;
}

/**
 * Reads the catalog over a connection of its own, logged in like the sessions' upstream
 * connections (querygate's upstream user, TLS mode, authentication), and closes it.
 */
export async function readCatalog(config: UpstreamConfig, listener: string): Promise<CatalogRows> {
  const conn = await UpstreamConnection.open(config, listener, {
    capabilities: Capability.LONG_PASSWORD | Capability.TRANSACTIONS, charset: UTF8MB4, maxPacketSize: 1 << 24, attributes: {},
  });
  const socket = conn.socket;
  const inbox = new PacketInbox(socket, MAX_PAYLOAD);
  const timer = setTimeout(() => socket.destroy(new Error(`the catalog was not read within ${READ_TIMEOUT_MS} ms`)), READ_TIMEOUT_MS);
  try {
    const relations = await textQuery(socket, inbox, RELATIONS_SQL);
    const columns = await textQuery(socket, inbox, COLUMNS_SQL);
    const views = await textQuery(socket, inbox, VIEWS_SQL);
    const routines = await textQuery(socket, inbox, ROUTINES_SQL);
    return { relations, columns, views, routines };
  } finally {
    clearTimeout(timer);
    inbox.detach();
    socket.on('error', () => undefined);
    socket.end(frame(Buffer.from([Command.QUIT]), 0));
    socket.destroySoon?.();
  }
}

/** One COM_QUERY and its text result set (no DEPRECATE_EOF: the login did not ask for it). */
async function textQuery(socket: Socket, inbox: PacketInbox, sql: string): Promise<CatalogRowSet> {
  socket.write(frame(textCommand(Command.QUERY, sql), 0));
  const first = await inbox.next();
  if (first.payload[0] === Header.ERR) throw serverError(first.payload);
  if (first.payload[0] === Header.OK) return [];
  const count = new PayloadReader(first.payload).lenenc();
  for (let i = 0; i <= count; i++) await inbox.next(); // the column definitions and their EOF
  const rows: CatalogRowSet = [];
  for (;;) {
    const { payload } = await inbox.next();
    if (payload[0] === Header.EOF && payload.length < 9) return rows;
    if (payload[0] === Header.ERR) throw serverError(payload);
    const reader = new PayloadReader(payload);
    const row: (string | null)[] = [];
    for (let i = 0; i < count; i++) {
      const length = reader.lenencOrNull();
      row.push(length === null ? null : reader.bytes(length).toString('utf8'));
    }
    rows.push(row);
  }
}

function serverError(payload: Buffer): Error {
  const err = parseErr(payload);
  return new Error(`upstream error ${err.errno}: ${err.message}`);
}
