import { isUtf8 } from 'node:buffer';
import {
  GatewayError,
  type ColumnRef, type ObjectRef, type ResultColumn, type ResultSet, type RowTransform, type Session, type Statement, type ValueMask,
} from '@querygate/core';
import { alignLineage, type AlignedColumn } from './alignLineage';
import { detectsAny, maskMatches } from './detectors';
import type { MaskingOptions, MaskingRule } from './MaskingOptions';
import { relationKey } from './patterns';
import { compileMask, textMask, type Strategy, type StrategyKind } from './strategies';
import { isTextFamily, typeFamily } from './TypeFamily';
import type { RelationInfo, ViewColumn, ViewResolver } from './ViewResolver';

/** Why one result column is masked. */
export interface ColumnDecision {
  readonly index: number;
  readonly name: string;
  /** The rule's name, or `fallback` for redact-all. */
  readonly rule: string;
  /** `server-text`: a server's own text that may quote values (MySQL SHOW WARNINGS after a sensitive read). */
  readonly reason: 'origin' | 'lineage' | 'whole-row' | 'name' | 'type' | 'detector' | 'fallback' | 'server-text';
  readonly strategy: StrategyKind | 'detect';
}

/**
 * The RowTransform masking returns. `covers` lists the masked result columns' names (index order)
 * so adapters and audit can report them without looking at values; `decisions` says why.
 */
export interface MaskingPlan extends RowTransform {
  readonly label: 'masking';
  readonly covers: readonly string[];
  readonly decisions: readonly ColumnDecision[];
}

/** The rules that apply to one session after exemptions; shared by every session with the same set. */
export interface ActiveRules {
  /** Identifies the set in cache keys. */
  readonly key: string;
  readonly exempt: boolean;
  readonly rules: readonly MaskingRule[];
  /** Rules matched by column, name or type (tried in order), and detector rules. */
  readonly columnRules: readonly MaskingRule[];
  readonly detectRules: readonly MaskingRule[];
}

/** How a statement stands before any row comes back. */
export interface StatementAssessment {
  /** The sensitive relations it reads (after resolving views), as `schema.table`. */
  readonly sensitiveReads: readonly string[];
  /** Why lineage cannot be trusted for it, when it cannot. */
  readonly unresolved: string | undefined;
  /** True when it reads a relation the catalog does not know (it may be a view over anything). */
  readonly readsUnknown: boolean;
  /** A refusal, when the fallback is `refuse` (or a copy of sensitive data is refused). */
  readonly refusal: GatewayError | undefined;
  /** Statements whose rows come back later under another statement (DECLARE ... CURSOR, PREPARE). */
  readonly defersSensitiveRows: boolean;
}

const SESSION_RULES = Symbol('querygate.masking.rules');
const SESSION_DEFERRED = Symbol('querygate.masking.deferred');
const SESSION_READ_SENSITIVE = Symbol('querygate.masking.read-sensitive');
const MAX_VIEW_DEPTH = 16;
const DEFERRING = new Set(['declare_cursor', 'declare', 'prepare']);
const VIEW_DDL = new Set(['create_view', 'create_or_replace_view', 'alter_view']);
const ROUTINE_CREATION: ReadonlySet<string> = new Set(['create_function', 'create_procedure', 'alter_function', 'alter_procedure', 'create_trigger', 'create_event']);
/**
 * PostgreSQL built-ins that read tables by name or run a query string (the XML export family): what
 * they return has no lineage, whatever the statement around them reads.
 */
const DATA_READING_FUNCTIONS: ReadonlySet<string> = new Set([
  'query_to_xml', 'query_to_xmlschema', 'query_to_xml_and_xmlschema',
  'table_to_xml', 'table_to_xmlschema', 'table_to_xml_and_xmlschema',
  'cursor_to_xml', 'cursor_to_xmlschema',
  'schema_to_xml', 'schema_to_xmlschema', 'schema_to_xml_and_xmlschema',
  'database_to_xml', 'database_to_xmlschema', 'database_to_xml_and_xmlschema',
]);

/**
 * Planner statistics: sample values of every analysed column (most common values, histogram
 * bounds; MariaDB's min/max), sensitive ones included, under the statistics' own column names.
 */
const STATISTICS: ReadonlyMap<string, string> = new Map([
  ['pg_stats', 'pg_catalog'], ['pg_stats_ext', 'pg_catalog'], ['pg_stats_ext_exprs', 'pg_catalog'],
  ['pg_statistic', 'pg_catalog'], ['pg_statistic_ext_data', 'pg_catalog'], ['column_stats', 'mysql'],
]);
/**
 * PostgreSQL functions that store a value where a later statement reads it back without lineage
 * (`current_setting`, LISTEN, `lo_get`...), or send it elsewhere.
 */
const STORING_FUNCTIONS = new Set([
  'set_config', 'pg_notify', 'lo_from_bytea', 'lo_put', 'lowrite', 'pg_logical_emit_message', 'dblink_exec', 'pg_file_write',
  // Values kept where later statements read them: a sequence's value, an advisory lock's key
  // (pg_locks), a large object's oid.
  'setval', 'lo_create', 'lo_import', 'pg_advisory_lock', 'pg_advisory_lock_shared', 'pg_advisory_xact_lock',
  'pg_advisory_xact_lock_shared', 'pg_try_advisory_lock', 'pg_try_advisory_lock_shared', 'pg_try_advisory_xact_lock',
  'pg_try_advisory_xact_lock_shared',
]);
// MySQL user variables: `SELECT ... INTO @v`, `@v := expr`, `SET @v = (SELECT ...)`. A stopgap on
// the normalised text until the analyser reports variable writes (see docs/masking.md).
const INTO_VARIABLE = /\bINTO\s+@/i;
const ASSIGNS_VARIABLE = /@(?:[\w$.]+|`(?:[^`]|``)*`|'(?:[^']|'')*'|"(?:[^"]|"")*")\s*:=/;
/**
 * PostgreSQL binary-format types the adapter can convert to text and back (protocol-postgres
 * codec/binaryValues.ts, isBinaryConvertible; duplicated: a plugin does not import an adapter):
 * text, varchar, bpchar, name, json, unknown, "char", xml, bool, int2, int4, int8, oid, float4,
 * float8, jsonb, uuid, bytea, date, timestamp, timestamptz, numeric; arrays of each of them
 * (_bool 1000 ... _jsonb 3807); record 2249 and record[] 2287 (a record converts when its fields
 * do, which only its values show: the adapter sends NULL for one that does not).
 */
const PG_BINARY_CONVERTIBLE = new Set([
  25, 1043, 1042, 19, 114, 705, 18, 142, 16, 21, 23, 20, 26, 700, 701, 3802, 2950, 17, 1082, 1114, 1184, 1700,
  1009, 1015, 1014, 1003, 199, 1002, 143, 1000, 1005, 1007, 1016, 1028, 1021, 1022, 3807, 2951, 1001, 1182, 1115, 1185, 1231,
  2249, 2287,
]);
/** PostgreSQL's FirstNormalObjectId: types with a lower OID are built in, the others user-defined or from extensions. */
const PG_FIRST_USER_OID = 16384;

/**
 * Masking decisions, free of caching and of the plugin host: which statements to refuse and which
 * result columns to mask how. The interceptor caches what this returns.
 */
export class MaskingPolicy {
  private readonly ruleSets = new Map<string, ActiveRules>();

  constructor(readonly options: MaskingOptions) {}

  /** The rules for a session, after global and per-rule exemptions. Remembered in session state. */
  rulesFor(session: Session): ActiveRules {
    const known = session.state.get(SESSION_RULES) as ActiveRules | undefined;
    if (known) return known;
    const exempt = this.exempted(this.options.exempt, session);
    const rules = exempt ? [] : this.options.rules.filter((r) => !this.exempted(r.exempt, session));
    const key = exempt ? 'exempt' : rules.map((r) => r.index).join(',');
    let set = this.ruleSets.get(key);
    if (!set) {
      set = {
        key,
        exempt: exempt || rules.length === 0,
        rules,
        columnRules: rules.filter((r) => r.detectors.length === 0),
        detectRules: rules.filter((r) => r.detectors.length > 0),
      };
      this.ruleSets.set(key, set);
    }
    session.state.set(SESSION_RULES, set);
    return set;
  }

  private exempted(exemption: MaskingOptions['exempt'], session: Session): boolean {
    return exemption.groups.some((g) => session.identity.groups.includes(g)) || exemption.listeners.includes(session.listener);
  }

  /** Marks a session whose later results (FETCH, EXECUTE) may carry sensitive rows without lineage. */
  noteDeferred(session: Session): void {
    session.state.set(SESSION_DEFERRED, true);
  }

  hasDeferred(session: Session): boolean {
    return session.state.get(SESSION_DEFERRED) === true;
  }

  /** Marks a session that ran a statement reading sensitive data (errors after it may quote values). */
  noteReadSensitive(session: Session): void {
    if (session.state.get(SESSION_READ_SENSITIVE) !== true) session.state.set(SESSION_READ_SENSITIVE, true);
  }

  hasReadSensitive(session: Session): boolean {
    return session.state.get(SESSION_READ_SENSITIVE) === true;
  }

  /** Judges a statement up front (onStatement). */
  assess(statement: Statement, rules: ActiveRules, resolver: ViewResolver | undefined, session: Session): StatementAssessment {
    const reads = this.resolveReads(statement.reads, resolver, session);
    const sensitiveReads = reads.tables.filter((t) => this.isSensitiveTable(t, rules)).map(relationName);
    for (const nested of statement.nested ?? []) {
      for (const t of this.resolveReads(nested.reads, resolver, session).tables) {
        if (this.isSensitiveTable(t, rules)) sensitiveReads.push(relationName(t));
      }
    }
    const routines = this.calledRoutines(statement, rules, resolver, session);
    sensitiveReads.push(...routines.sensitiveReads);
    const readers = dataReadingCalls(statement);
    // MySQL `EXECUTE IMMEDIATE <expression>` / `PREPARE p FROM @v`: the SQL is built at run time, and
    // may read or store anything (a literal text is analysed as nested statements instead).
    const runsBuiltText = statement.risks.has('dynamicSql') && (statement.command === 'execute_immediate' || statement.command === 'prepare')
      && (statement.nested?.length ?? 0) === 0;
    const unresolved = runsBuiltText
      ? 'it runs SQL text built at run time, which may read or store anything'
      : readers.length > 0
      ? `it calls ${readers.join(', ')}, which read${readers.length === 1 ? 's' : ''} tables by name or runs a query string, so its output has no column lineage`
      : routines.sensitive.length > 0
      ? `it calls ${routines.sensitive.join(', ')}, whose body reads ${[...new Set(routines.sensitiveReads)].join(', ')}, and what a routine returns, raises or prints cannot be traced to columns`
      : !statement.lineage.complete
        ? 'the analyser could not follow every output column to its sources'
        : reads.unknown.length > 0
          ? `the catalog does not know ${reads.unknown.map(relationName).join(', ')} (no such relation, or one made by DDL not committed yet)`
          : reads.incomplete ? 'a view definition could not be followed to its sources'
            : routines.opaque.length > 0 ? `it calls ${routines.opaque.join(', ')}, whose body the gateway cannot follow` : undefined;
    const readsUnknown = reads.unknown.length > 0 || routines.opaque.length > 0 || readers.length > 0 || runsBuiltText;
    const mayBeSensitive = sensitiveReads.length > 0 || readsUnknown || this.options.fallbackScope === 'all';
    const defersSensitiveRows = (DEFERRING.has(statement.command) || /^\s*(declare|prepare)\b/i.test(statement.text))
      && (mayBeSensitive || statement.risks.has('dynamicSql'));
    let refusal: GatewayError | undefined;
    const statistics = rules.columnRules.length > 0 ? statisticsRead(statement, reads.tables, routines.reads) : [];
    if (statistics.length > 0) {
      refusal = new GatewayError('QG_MASKING_UNRESOLVED', `${statistics.join(', ')} hold sample values of table columns (most common values, histogram bounds), sensitive ones included`, {
        rule: 'masking', hint: 'Read planner statistics through a session that is exempt from masking.',
      });
    } else if (unresolved && mayBeSensitive && this.options.fallback === 'refuse') {
      refusal = unresolvedError(unresolved, sensitiveReads, rules);
    } else if (this.options.sensitiveCopies === 'refuse') {
      refusal = this.assignmentRefusal(statement, rules, resolver, session);
      if (refusal === undefined && sensitiveReads.length > 0 && ROUTINE_CREATION.has(statement.command)) {
        refusal = new GatewayError('QG_MASKING_UNRESOLVED', `a routine whose body reads ${[...new Set(sensitiveReads)].join(', ')} would hand its values to whoever runs it, and defaults, triggers, views and operators run routines where masking cannot follow`, {
          rule: 'masking', hint: 'Create routines over sensitive tables through a session that is exempt from masking.',
        });
      }
      if (refusal === undefined && sensitiveReads.length > 0) {
        refusal = this.copyRefusal(statement, rules, resolver, sensitiveReads) ?? this.storeRefusal(statement, rules, resolver, session, sensitiveReads);
      }
    }
    return { sensitiveReads: [...new Set(sensitiveReads)], unresolved, readsUnknown, refusal, defersSensitiveRows };
  }

  /**
   * User-defined routines the statement (or one nested in it) calls: those whose body reads a
   * sensitive table (through views and further routines), and those whose body the catalog could
   * not follow. Built-in functions are not the catalog's (it answers undefined for them).
   */
  private calledRoutines(
    statement: Statement, rules: ActiveRules, resolver: ViewResolver | undefined, session: Session,
  ): { sensitive: string[]; sensitiveReads: string[]; opaque: string[]; reads: ObjectRef[] } {
    const sensitive: string[] = [];
    const sensitiveReads: string[] = [];
    const opaque: string[] = [];
    const reads: ObjectRef[] = [];
    if (resolver?.routine === undefined) return { sensitive, sensitiveReads, opaque, reads };
    const visit = (s: Statement): void => {
      for (const name of s.functions) {
        const routine = resolver.routine!(name, session);
        if (routine === undefined) continue;
        if (!routine.complete) opaque.push(name);
        const resolved = this.resolveReads(routine.reads, resolver, session);
        reads.push(...resolved.tables);
        const tables = resolved.tables.filter((t) => this.isSensitiveTable(t, rules)).map(relationName);
        if (tables.length > 0) { sensitive.push(name); sensitiveReads.push(...tables); }
        if (resolved.unknown.length > 0 || resolved.incomplete) opaque.push(name);
      }
      s.nested?.forEach(visit);
    };
    visit(statement);
    return { sensitive: [...new Set(sensitive)], sensitiveReads, opaque: [...new Set(opaque)], reads };
  }

  /**
   * A write whose analyser says what each target column receives (UPDATE ... SET, INSERT ...
   * SELECT): a value computed from a column a rule covers may only go into a column that rule covers
   * too. Otherwise `UPDATE users SET name = ssn` would make the next read of `name` clear, and
   * `SET email = 'x@' || ssn` would show the SSN as an email's kept domain. An INSERT that does not
   * name its target columns cannot be checked column by column.
   */
  private assignmentRefusal(statement: Statement, rules: ActiveRules, resolver: ViewResolver | undefined, session: Session): GatewayError | undefined {
    for (const a of statement.assigned ?? []) {
      const from = new Set<MaskingRule>();
      for (const source of a.sources) for (const r of this.rulesOfSource(source, rules, resolver, session)) from.add(r);
      if (from.size === 0) continue;
      const target = a.target;
      const into = target.column === '*' ? [] : rules.columnRules.filter((r) => r.columns.some((p) => p.matches(target)) || r.names.some((p) => p.matchesSource(target)));
      const missing = [...from].filter((r) => !into.includes(r));
      if (missing.length === 0) continue;
      const table = relationName({ schema: target.schema, name: target.table });
      const where = target.column === '*' ? table : `${table}.${target.column}`;
      return new GatewayError(
        'QG_MASKING_UNRESOLVED',
        `statement would write values masked by ${missing.map((r) => r.name).join(', ')} into ${where}, which ${missing.length === 1 ? 'that rule does' : 'those rules do'} not cover`,
        { rule: 'masking', hint: target.column === '*' ? 'Name the target columns of the INSERT.' : 'Write the value into a column the same rule covers, or use a session that is exempt from masking.' },
      );
    }
    for (const n of statement.nested ?? []) {
      const inner = this.assignmentRefusal(n, rules, resolver, session);
      if (inner) return inner;
    }
    return undefined;
  }

  /** The column rules that mask a source column (through views; a whole row: every rule of its table). */
  private rulesOfSource(source: ColumnRef, rules: ActiveRules, resolver: ViewResolver | undefined, session: Session): MaskingRule[] {
    const out: MaskingRule[] = [];
    for (const { ref } of this.resolveColumn(source, resolver, session)) {
      for (const r of rules.columnRules) {
        const hit = ref.column === '*'
          ? r.columns.some((p) => p.matchesTable(ref.schema, ref.table))
          : r.columns.some((p) => p.matches(ref)) || r.names.some((p) => p.matchesSource(ref));
        if (hit && !out.includes(r)) out.push(r);
      }
    }
    return out;
  }

  /**
   * A statement that reads a sensitive table and writes another relation no rule covers would
   * copy clear values where masking no longer sees them (CREATE TABLE AS, INSERT ... SELECT,
   * a materialized view). A view is fine when a resolver will follow it later.
   */
  private copyRefusal(statement: Statement, rules: ActiveRules, resolver: ViewResolver | undefined, sensitiveReads: readonly string[]): GatewayError | undefined {
    if (statement.writes.length === 0 || statement.kind === 'delete') return undefined;
    if (resolver && VIEW_DDL.has(statement.command)) return undefined;
    const uncovered = statement.writes.filter((w) => !this.isSensitiveTable(w, rules));
    if (uncovered.length === 0) return undefined;
    return new GatewayError(
      'QG_MASKING_UNRESOLVED',
      `statement would copy values from ${[...new Set(sensitiveReads)].join(', ')} into ${uncovered.map(relationName).join(', ')}, which no masking rule covers`,
      { rule: 'masking', hint: 'Copy only non-sensitive columns through a session that is exempt from masking, or add a masking rule for the target.' },
    );
  }

  /**
   * A statement reading sensitive data that stores a value where a later statement reads it back
   * without lineage: a MySQL user or session variable, a PostgreSQL setting or notification
   * (set_config, pg_notify...), a file on the database server. Only `SELECT ... INTO @v` says what
   * it stores (its output columns); the others are refused whatever they store.
   */
  private storeRefusal(statement: Statement, rules: ActiveRules, resolver: ViewResolver | undefined, session: Session, sensitiveReads: readonly string[]): GatewayError | undefined {
    const store = storesValue(statement);
    if (!store) return undefined;
    if (store.byOutputs && statement.lineage.complete && !statement.lineage.outputs.some((o) => o.sources.some((s) => this.rulesOfSource(s, rules, resolver, session).length > 0))) {
      return undefined;
    }
    return new GatewayError(
      'QG_MASKING_UNRESOLVED',
      `statement would store values from ${[...new Set(sensitiveReads)].join(', ')} in ${store.where}, where masking no longer sees them`,
      { rule: 'masking', hint: 'Select the values instead (results are masked), or use a session that is exempt from masking.' },
    );
  }

  /** True when the statement (or one nested in it) writes, alters or indexes a table a rule covers. */
  writesSensitive(statement: Statement, rules: ActiveRules): boolean {
    const visit = (s: Statement): boolean => s.writes.some((w) => this.isSensitiveTable(w, rules)) || (s.nested?.some(visit) ?? false);
    return visit(statement);
  }

  /** The plan for one result set, or undefined when no column needs masking. */
  plan(
    result: ResultSet, rules: ActiveRules, resolver: ViewResolver | undefined, session: Session,
    assessment: StatementAssessment = this.assess(result.statement, rules, resolver, session),
  ): MaskingPlan | undefined {
    if (rules.exempt) return undefined;
    const statement = result.statement;
    // An origin naming a relation the statement does not read is no base-table origin: MariaDB
    // reports a derived table's or a CTE's alias (`t.email`). Such columns are aligned by lineage
    // alone and never count as direct; the origin is still tried by the rules, as a computed source.
    const { columns, indirect } = withoutForeignOrigins(result.columns, statement);
    let aligned: AlignedColumn[] | undefined;
    let unresolved = assessment.unresolved;
    if (statement.lineage.outputs.length === 0 && columns.length > 0 && this.hasDeferred(session)) {
      unresolved ??= 'its rows come from a cursor or prepared statement over sensitive tables';
    } else if (statement.lineage.complete) {
      aligned = alignLineage(columns, statement.lineage.outputs);
      if (!aligned) unresolved ??= `its ${columns.length} result columns could not be matched to the analyser's ${statement.lineage.outputs.length} output columns`;
    }
    const deferredNoLineage = statement.lineage.outputs.length === 0 && this.hasDeferred(session);
    const mayBeSensitive = assessment.sensitiveReads.length > 0 || deferredNoLineage
      || this.options.fallbackScope === 'all' || assessment.readsUnknown;
    if (unresolved && mayBeSensitive && columns.length > 0) {
      if (this.options.fallback === 'refuse') throw unresolvedError(unresolved, assessment.sensitiveReads, rules);
      return this.redactAll(result, session);
    }

    const masks = new Map<number, ValueMask>();
    const decisions: ColumnDecision[] = [];
    for (let i = 0; i < columns.length; i++) {
      const column = columns[i]!;
      const lineage = aligned?.[i];
      const found = this.matchColumn(column, lineage, rules, resolver, session, indirect[i]);
      const target = { type: column.type, protocol: session.protocol };
      if (found) {
        masks.set(i, compileMask(found.strategy, target, this.options.key));
        decisions.push({ index: i, name: column.name, rule: found.rule.name, reason: found.reason, strategy: found.strategy.kind });
      } else if (rules.detectRules.length > 0 && isTextFamily(typeFamily(column.type))) {
        masks.set(i, this.detectorMask(rules.detectRules, target));
        decisions.push({ index: i, name: column.name, rule: rules.detectRules.map((r) => r.name).join('+'), reason: 'detector', strategy: 'detect' });
      } else if (rules.detectRules.length > 0 && isBlobFamily(column.type)) {
        // MariaDB sends JSON and LONGTEXT results as BLOB with a text charset: scan what is text.
        masks.set(i, textOnly(this.detectorMask(rules.detectRules, target)));
        decisions.push({ index: i, name: column.name, rule: rules.detectRules.map((r) => r.name).join('+'), reason: 'detector', strategy: 'detect' });
      }
    }
    if (session.protocol === 'postgres') {
      for (const i of masks.keys()) {
        const column = columns[i]!;
        if (column.format === 'binary' && !pgBinaryConvertible(column, resolver, session)) throw binaryFormatError(column);
      }
    }
    if (masks.size === 0) return undefined;
    return { columns: masks, label: 'masking', covers: decisions.map((d) => d.name), decisions };
  }

  private redactAll(result: ResultSet, session: Session): MaskingPlan {
    const masks = new Map<number, ValueMask>();
    const decisions: ColumnDecision[] = [];
    const strategy: Strategy = { kind: 'redact', text: this.options.redaction, typed: true };
    result.columns.forEach((column, i) => {
      masks.set(i, compileMask(strategy, { type: column.type, protocol: session.protocol }, this.options.key));
      decisions.push({ index: i, name: column.name, rule: 'fallback', reason: 'fallback', strategy: 'redact' });
    });
    return { columns: masks, label: 'masking', covers: decisions.map((d) => d.name), decisions };
  }

  /** The first rule (in order) that matches a column, and the strategy it applies there. */
  private matchColumn(
    column: ResultColumn,
    lineage: AlignedColumn | undefined,
    rules: ActiveRules,
    resolver: ViewResolver | undefined,
    session: Session,
    indirect?: ColumnRef,
  ): { rule: MaskingRule; strategy: Strategy; reason: ColumnDecision['reason'] } | undefined {
    const origins = column.origin ? this.resolveColumn(column.origin, resolver, session) : [];
    const sources = lineage ? lineage.sources.flatMap((s) => this.resolveColumn(s, resolver, session)) : [];
    if (indirect) for (const r of this.resolveColumn(indirect, resolver, session)) sources.push({ ref: r.ref, viaView: true });
    // The value is read unchanged when the database says so (origin) or the analyser does.
    const direct = column.origin !== undefined || (lineage?.direct ?? false);
    for (const rule of rules.columnRules) {
      for (const o of origins) {
        const wholeRow = o.ref.column === '*';
        if (rule.columns.some((p) => p.matches(o.ref)) || (!wholeRow && rule.names.some((p) => p.matchesSource(o.ref)))) {
          return { rule, strategy: wholeRow || o.viaView ? rule.derived : rule.strategy, reason: wholeRow ? 'whole-row' : 'origin' };
        }
      }
      for (const s of sources) {
        const wholeRow = s.ref.column === '*';
        const hit = rule.columns.some((p) => p.matches(s.ref))
          || rule.names.some((p) => (wholeRow ? this.tableColumns(s.ref, resolver, session).some((c) => p.matchesSource({ ...s.ref, column: c })) : p.matchesSource(s.ref)));
        if (hit) {
          return { rule, strategy: direct && !wholeRow && !s.viaView ? rule.strategy : rule.derived, reason: wholeRow ? 'whole-row' : 'lineage' };
        }
      }
      if (rule.names.some((p) => p.matchesName(column.name))) return { rule, strategy: direct ? rule.strategy : rule.derived, reason: 'name' };
      if (rule.types.some((t) => t.matches(column.type))) return { rule, strategy: rule.strategy, reason: 'type' };
    }
    return undefined;
  }

  private detectorMask(detectRules: readonly MaskingRule[], target: { type: string; protocol: Session['protocol'] }): ValueMask {
    const steps = detectRules.map((rule) => {
      if (rule.scope === 'value') {
        const whole = compileMask(rule.strategy, target, this.options.key);
        return (value: string): string | null => (detectsAny(value, rule.detectors) ? whole(value) : value);
      }
      const replace = textMask(rule.strategy, this.options.key);
      return (value: string): string | null => maskMatches(value, rule.detectors, replace);
    });
    if (steps.length === 1) return steps[0]!;
    return (value) => {
      let v: string | null = value;
      for (const step of steps) {
        v = step(v);
        if (v === null) return null;
      }
      return v;
    };
  }

  /** True when some column rule names a column of this relation. */
  private isSensitiveTable(relation: ObjectRef, rules: ActiveRules): boolean {
    return rules.columnRules.some((r) => r.columns.some((p) => p.matchesTable(relation.schema, relation.name)));
  }

  private tableColumns(ref: ColumnRef, resolver: ViewResolver | undefined, session: Session): readonly string[] {
    const info = resolver?.describe({ schema: ref.schema, name: ref.table }, session);
    return info?.kind === 'table' ? info.columns ?? [] : [];
  }

  /**
   * A column through views down to base columns. `viaView` marks columns reached through a view
   * whose column is computed, so the rule's derived strategy applies.
   */
  private resolveColumn(ref: ColumnRef, resolver: ViewResolver | undefined, session: Session, depth = 0): { ref: ColumnRef; viaView: boolean }[] {
    if (!resolver || depth > MAX_VIEW_DEPTH) return [{ ref, viaView: false }];
    const info = resolver.describe({ schema: ref.schema, name: ref.table }, session);
    if (!info || info.kind !== 'view') return [{ ref, viaView: false }];
    const columns = viewColumns(info, ref.column);
    const out: { ref: ColumnRef; viaView: boolean }[] = [];
    for (const c of columns) {
      const computed = ref.column === '*' || c.direct !== true || c.sources.length !== 1;
      for (const s of c.sources) {
        for (const r of this.resolveColumn(s, resolver, session, depth + 1)) out.push({ ref: r.ref, viaView: r.viaView || computed });
      }
    }
    // A whole row of a view is a whole row: keep the view's own `*` so table-level rules see it too.
    if (ref.column === '*') out.push({ ref, viaView: true });
    return out;
  }

  /** The base tables a statement reads, through views; unknown relations when the catalog says so. */
  private resolveReads(reads: readonly ObjectRef[], resolver: ViewResolver | undefined, session: Session): { tables: ObjectRef[]; unknown: ObjectRef[]; incomplete: boolean } {
    const tables: ObjectRef[] = [];
    const unknown: ObjectRef[] = [];
    let incomplete = false;
    const seen = new Set<string>();
    const visit = (ref: ObjectRef, depth: number): void => {
      const key = relationKey(ref);
      if (seen.has(key)) return;
      seen.add(key);
      if (!resolver) { tables.push(ref); return; }
      const info: RelationInfo | undefined = resolver.describe(ref, session);
      if (!info) {
        if (this.options.unknownRelations === 'table') tables.push(ref);
        else unknown.push(ref);
        return;
      }
      if (info.kind === 'table') { tables.push(ref); return; }
      // The view's own name stays in: rules may name view columns directly.
      tables.push(ref);
      if (!info.complete || depth >= MAX_VIEW_DEPTH) incomplete = true;
      if (depth < MAX_VIEW_DEPTH) for (const r of info.reads) visit(r, depth + 1);
    };
    for (const r of reads) visit(r, 0);
    return { tables, unknown, incomplete };
  }
}

/**
 * Columns whose origin names a relation the statement (or a nested one) does not read, with that
 * origin removed; `indirect[i]` keeps it.
 */
function withoutForeignOrigins(columns: readonly ResultColumn[], statement: Statement): { columns: readonly ResultColumn[]; indirect: (ColumnRef | undefined)[] } {
  const indirect: (ColumnRef | undefined)[] = [];
  // Without lineage (FETCH, EXECUTE) there is nothing to align, and the origin is all there is.
  if (statement.lineage.outputs.length === 0 || !columns.some((c) => c.origin)) return { columns, indirect };
  const read = new Set<string>();
  const visit = (s: Statement): void => {
    for (const r of s.reads) read.add(r.name.toLowerCase());
    for (const w of s.writes) read.add(w.name.toLowerCase());
    s.nested?.forEach(visit);
  };
  visit(statement);
  let changed = false;
  const out = columns.map((c, i) => {
    if (!c.origin || read.has(c.origin.table.toLowerCase())) return c;
    changed = true;
    indirect[i] = c.origin;
    const { origin: _foreign, ...rest } = c;
    return rest;
  });
  return { columns: changed ? out : columns, indirect };
}

function storesValue(statement: Statement): { where: string; byOutputs: boolean } | undefined {
  const fn = statement.functions.find((f) => STORING_FUNCTIONS.has(f.slice(f.lastIndexOf('.') + 1)));
  if (fn) return { where: `the server through ${fn}()`, byOutputs: false };
  if (statement.risks.has('fileAccess')) return { where: 'a file', byOutputs: false };
  // A MySQL SET reports one output per assignment (what each variable's value is computed from).
  if (statement.command === 'set') {
    return { where: statement.normalized.includes('@') ? 'a user variable' : 'a session variable', byOutputs: statement.lineage.outputs.length > 0 };
  }
  const text = statement.normalized;
  if (!text.includes('@')) return undefined;
  if (ASSIGNS_VARIABLE.test(text)) return { where: 'a user variable', byOutputs: false };
  // `SELECT a, b INTO @x, @y`: the output columns are what is stored.
  if (INTO_VARIABLE.test(text)) return { where: 'a user variable', byOutputs: true };
  return undefined;
}

/** MySQL/MariaDB BLOB types: binary, or text whose column the adapter could not name (JSON, LONGTEXT). */
function isBlobFamily(type: string): boolean {
  return /^(tiny|medium|long)?blob$/i.test(type);
}

/** Runs `mask` only on values that are text: valid UTF-8 (however the adapter decoded the bytes), without NUL. */
function textOnly(mask: ValueMask): ValueMask {
  return (value) => (looksLikeText(value) ? mask(value) : value);
}

function looksLikeText(value: string): boolean {
  if (value.includes('\u0000')) return false;
  // A binary-charset value reaches masks decoded as latin1 (one char per byte): valid UTF-8 bytes
  // are text. Other values were decoded as UTF-8 already.
  for (let i = 0; i < value.length; i++) {
    if (value.charCodeAt(i) > 0xff) return !value.includes('\ufffd');
  }
  return isUtf8(Buffer.from(value, 'latin1'));
}

/**
 * True when protocol-postgres can take the column's binary values to text and back. Besides the
 * built-in types above, a user-defined type converts when it is an array or composite of
 * convertible types (the adapter reads which from the value's layout). Its name is all the plugin
 * knows: a table's or view's row type, or an array of one (`_users`), is let through; other user
 * types (enums, domains, ranges, standalone composites, extension types) are refused here rather
 * than sent as NULL.
 */
function pgBinaryConvertible(column: ResultColumn, resolver: ViewResolver | undefined, session: Session): boolean {
  if (PG_BINARY_CONVERTIBLE.has(column.typeId)) return true;
  if (column.typeId < PG_FIRST_USER_OID || resolver === undefined) return false;
  const rowType = column.type.startsWith('_') ? column.type.slice(1) : column.type;
  return resolver.describe({ name: rowType }, session) !== undefined;
}

function binaryFormatError(column: ResultColumn): GatewayError {
  return new GatewayError('QG_MASKING_UNRESOLVED', `binary format of type ${column.type} cannot be masked (column ${column.name}); use text format`, {
    rule: 'masking',
    hint: 'Ask for this column in text format (most drivers do by default), or cast it to text in the query.',
  });
}

/** The calls of DATA_READING_FUNCTIONS in a statement and the statements nested in it. */
function dataReadingCalls(statement: Statement): string[] {
  const found = new Set<string>();
  const visit = (s: Statement): void => {
    for (const f of s.functions) {
      const bare = f.slice(f.lastIndexOf('.') + 1).toLowerCase();
      if (DATA_READING_FUNCTIONS.has(bare)) found.add(bare);
    }
    s.nested?.forEach(visit);
  };
  visit(statement);
  return [...found];
}

/** The planner-statistics relations a statement reads: directly, nested, through views or routines. */
function statisticsRead(statement: Statement, ...resolved: (readonly ObjectRef[])[]): string[] {
  const found = new Set<string>();
  const check = (r: ObjectRef): void => {
    const schema = STATISTICS.get(r.name.toLowerCase());
    if (schema !== undefined && (r.schema === undefined || r.schema.toLowerCase() === schema)) found.add(`${schema}.${r.name.toLowerCase()}`);
  };
  const visit = (s: Statement): void => { s.reads.forEach(check); s.nested?.forEach(visit); };
  visit(statement);
  for (const list of resolved) list.forEach(check);
  return [...found];
}

function viewColumns(info: Extract<RelationInfo, { kind: 'view' }>, column: string): readonly ViewColumn[] {
  if (column === '*') return info.columns;
  const found = info.columns.filter((c) => c.name.toLowerCase() === column.toLowerCase());
  // A column the definition does not list: every column of the view may feed it.
  return found.length > 0 ? found : info.columns;
}

function relationName(ref: ObjectRef): string {
  return ref.schema === undefined ? ref.name : `${ref.schema}.${ref.name}`;
}

function unresolvedError(why: string, sensitiveReads: readonly string[], rules: ActiveRules): GatewayError {
  const what = sensitiveReads.length > 0 ? `reads sensitive data (${[...new Set(sensitiveReads)].join(', ')})` : 'may read sensitive data';
  const rule = rules.columnRules.find((r) => r.columns.length > 0)?.name ?? 'masking';
  return new GatewayError('QG_MASKING_UNRESOLVED', `masking refused the statement: it ${what}, and ${why}, so the gateway cannot tell which result columns to mask`, {
    rule,
    hint: 'Select the sensitive columns directly (not through functions returning rows or dynamic SQL), or ask for a masking exemption.',
  });
}

