// Statement kind and command for every top-level parse node, plus what the node itself writes and the
// risks it carries by its type alone. The command names are documented in README.md (guardrails
// rules match on them): keep the two in step.
import type { ObjectRef, RiskFlag, StatementKind } from '@querygate/core';
import type {
  AlterTableCmd, AlterTableStmt, CopyStmt, CreateFunctionStmt, CreateTableAsStmt, DefElem, DropStmt, ExplainStmt,
  GrantStmt, Node, RangeVar, RenameStmt, SelectStmt, TransactionStmt, VariableSetStmt,
} from 'libpg-query';
import { bodyOf, isObject, listItems, namesOf, objectRefOf, objectWord, qualifiedRef, stringOf, tagOf } from './ast';
import { copyQuery, cursorQuery, explainBody, prepareBody } from './innerText';

export interface Classification {
  readonly kind: StatementKind;
  readonly command: string;
  /** RangeVar bodies this statement writes (they are not reads). */
  readonly targets: readonly RangeVar[];
  /** Other objects it writes (DDL targets named by lists, databases, schemas...). */
  readonly writes: readonly ObjectRef[];
  readonly risks: readonly RiskFlag[];
  /** Subtrees the server does not execute as part of this statement. */
  readonly skip: readonly unknown[];
  /** A statement embedded in this one: judged as `nested` or only contributing its tables to reads. */
  readonly embedded?: { readonly text: string | undefined; readonly mode: 'nested' | 'reads' };
  readonly doBlock?: { readonly language: string; readonly body: string };
  /** A routine's body as CREATE FUNCTION / PROCEDURE gives it: what it reads counts as read. */
  readonly routineBody?: { readonly language: string; readonly body: string };
  /** `lineage`: rows whose lineage is resolved; `none`: no rows; `opaque`: rows of unknown origin. */
  readonly rows: 'lineage' | 'none' | 'opaque';
}

type Draft = { -readonly [K in keyof Classification]: Classification[K] };

function draft(kind: StatementKind, command: string): Draft {
  return { kind, command, targets: [], writes: [], risks: [], skip: [], rows: 'none' };
}

const TRANSACTION_COMMANDS: Readonly<Record<string, string>> = {
  TRANS_STMT_BEGIN: 'begin', TRANS_STMT_START: 'begin', TRANS_STMT_COMMIT: 'commit', TRANS_STMT_ROLLBACK: 'rollback',
  TRANS_STMT_SAVEPOINT: 'savepoint', TRANS_STMT_RELEASE: 'release_savepoint', TRANS_STMT_ROLLBACK_TO: 'rollback_to_savepoint',
  TRANS_STMT_PREPARE: 'prepare_transaction', TRANS_STMT_COMMIT_PREPARED: 'commit_prepared',
  TRANS_STMT_ROLLBACK_PREPARED: 'rollback_prepared',
};

/** Node types whose command is a fixed word; kind first. */
const FIXED: Readonly<Record<string, readonly [StatementKind, string]>> = {
  CreateStmt: ['ddl', 'create_table'],
  ViewStmt: ['ddl', 'create_view'],
  IndexStmt: ['ddl', 'create_index'],
  CreateSeqStmt: ['ddl', 'create_sequence'],
  AlterSeqStmt: ['ddl', 'alter_sequence'],
  CreatedbStmt: ['ddl', 'create_database'],
  DropdbStmt: ['ddl', 'drop_database'],
  AlterDatabaseStmt: ['ddl', 'alter_database'],
  AlterDatabaseSetStmt: ['ddl', 'alter_database'],
  AlterDatabaseRefreshCollStmt: ['ddl', 'alter_database'],
  CreateSchemaStmt: ['ddl', 'create_schema'],
  TruncateStmt: ['ddl', 'truncate'],
  CommentStmt: ['ddl', 'comment'],
  SecLabelStmt: ['ddl', 'security_label'],
  CreateTrigStmt: ['ddl', 'create_trigger'],
  CreateEventTrigStmt: ['ddl', 'create_event_trigger'],
  AlterEventTrigStmt: ['ddl', 'alter_event_trigger'],
  RuleStmt: ['ddl', 'create_rule'],
  CreatePolicyStmt: ['ddl', 'create_policy'],
  AlterPolicyStmt: ['ddl', 'alter_policy'],
  CreateExtensionStmt: ['ddl', 'create_extension'],
  AlterExtensionStmt: ['ddl', 'alter_extension'],
  AlterExtensionContentsStmt: ['ddl', 'alter_extension'],
  CreatePLangStmt: ['ddl', 'create_language'],
  CompositeTypeStmt: ['ddl', 'create_type'],
  CreateEnumStmt: ['ddl', 'create_type'],
  CreateRangeStmt: ['ddl', 'create_type'],
  AlterEnumStmt: ['ddl', 'alter_type'],
  AlterTypeStmt: ['ddl', 'alter_type'],
  CreateDomainStmt: ['ddl', 'create_domain'],
  AlterDomainStmt: ['ddl', 'alter_domain'],
  CreateOpClassStmt: ['ddl', 'create_operator_class'],
  CreateOpFamilyStmt: ['ddl', 'create_operator_family'],
  AlterOpFamilyStmt: ['ddl', 'alter_operator_family'],
  AlterOperatorStmt: ['ddl', 'alter_operator'],
  CreateCastStmt: ['ddl', 'create_cast'],
  CreateTransformStmt: ['ddl', 'create_transform'],
  CreateConversionStmt: ['ddl', 'create_conversion'],
  AlterCollationStmt: ['ddl', 'alter_collation'],
  CreateAmStmt: ['ddl', 'create_access_method'],
  CreateStatsStmt: ['ddl', 'create_statistics'],
  AlterStatsStmt: ['ddl', 'alter_statistics'],
  CreateTableSpaceStmt: ['ddl', 'create_tablespace'],
  DropTableSpaceStmt: ['ddl', 'drop_tablespace'],
  AlterTableSpaceOptionsStmt: ['ddl', 'alter_tablespace'],
  AlterTableMoveAllStmt: ['ddl', 'alter_table'],
  CreateFdwStmt: ['ddl', 'create_foreign_data_wrapper'],
  AlterFdwStmt: ['ddl', 'alter_foreign_data_wrapper'],
  CreateForeignServerStmt: ['ddl', 'create_server'],
  AlterForeignServerStmt: ['ddl', 'alter_server'],
  CreateForeignTableStmt: ['ddl', 'create_foreign_table'],
  CreateUserMappingStmt: ['ddl', 'create_user_mapping'],
  AlterUserMappingStmt: ['ddl', 'alter_user_mapping'],
  DropUserMappingStmt: ['ddl', 'drop_user_mapping'],
  ImportForeignSchemaStmt: ['ddl', 'import_foreign_schema'],
  CreatePublicationStmt: ['ddl', 'create_publication'],
  AlterPublicationStmt: ['ddl', 'alter_publication'],
  CreateSubscriptionStmt: ['ddl', 'create_subscription'],
  AlterSubscriptionStmt: ['ddl', 'alter_subscription'],
  DropSubscriptionStmt: ['ddl', 'drop_subscription'],
  AlterTSDictionaryStmt: ['ddl', 'alter_text_search_dictionary'],
  AlterTSConfigurationStmt: ['ddl', 'alter_text_search_configuration'],
  AlterSystemStmt: ['ddl', 'alter_system'],
  RefreshMatViewStmt: ['ddl', 'refresh_materialized_view'],
  GrantRoleStmt: ['dcl', 'grant'],
  AlterDefaultPrivilegesStmt: ['dcl', 'alter_default_privileges'],
  CreateRoleStmt: ['dcl', 'create_role'],
  AlterRoleStmt: ['dcl', 'alter_role'],
  AlterRoleSetStmt: ['dcl', 'alter_role'],
  DropRoleStmt: ['dcl', 'drop_role'],
  ReassignOwnedStmt: ['dcl', 'reassign_owned'],
  DropOwnedStmt: ['dcl', 'drop_owned'],
  ConstraintsSetStmt: ['tcl', 'set_constraints'],
  VariableShowStmt: ['utility', 'show'],
  DeallocateStmt: ['utility', 'deallocate'],
  ClosePortalStmt: ['utility', 'close'],
  ClusterStmt: ['utility', 'cluster'],
  ReindexStmt: ['utility', 'reindex'],
  CheckPointStmt: ['utility', 'checkpoint'],
  LockStmt: ['utility', 'lock'],
  ListenStmt: ['utility', 'listen'],
  UnlistenStmt: ['utility', 'unlisten'],
  NotifyStmt: ['utility', 'notify'],
  LoadStmt: ['utility', 'load'],
  DiscardStmt: ['utility', 'discard'],
  CallStmt: ['procedural', 'call'],
};

/** Statements that change who the session is or what roles may do. */
const PRIVILEGE_TAGS: ReadonlySet<string> = new Set([
  'GrantStmt', 'GrantRoleStmt', 'AlterDefaultPrivilegesStmt', 'CreateRoleStmt', 'AlterRoleStmt', 'AlterRoleSetStmt',
  'DropRoleStmt', 'ReassignOwnedStmt', 'DropOwnedStmt', 'AlterOwnerStmt',
]);

/** Relation-valued fields that name what the statement creates or changes. */
const TARGET_FIELDS: Readonly<Record<string, string>> = {
  CreateStmt: 'relation', ViewStmt: 'view', IndexStmt: 'relation', CreateSeqStmt: 'sequence', AlterSeqStmt: 'sequence',
  AlterTableStmt: 'relation', CreateTrigStmt: 'relation', RuleStmt: 'relation', CreatePolicyStmt: 'table',
  AlterPolicyStmt: 'table', RefreshMatViewStmt: 'relation', ClusterStmt: 'relation', RenameStmt: 'relation',
  AlterObjectSchemaStmt: 'relation', AlterOwnerStmt: 'relation', AlterObjectDependsStmt: 'relation',
  ReindexStmt: 'relation',
};

function rangeVarBody(node: unknown): RangeVar | undefined {
  if (isObject(node) && typeof node.relname === 'string') return node as RangeVar;
  return bodyOf<RangeVar>(node, 'RangeVar');
}

function defElems(list: readonly Node[] | undefined): DefElem[] {
  return (list ?? []).map((n) => bodyOf<DefElem>(n, 'DefElem')).filter((d): d is DefElem => d !== undefined);
}

/** `true`, `on`, `1`, or no argument at all (a bare option) mean on. */
function optionOn(def: DefElem): boolean {
  if (def.arg === undefined) return true;
  const b = bodyOf<{ boolval?: boolean }>(def.arg, 'Boolean');
  if (b !== undefined) return b.boolval === true;
  const i = bodyOf<{ ival?: number }>(def.arg, 'Integer');
  if (i !== undefined) return (i.ival ?? 0) !== 0;
  const s = stringOf(def.arg)?.toLowerCase();
  // Anything unrecognised counts as on: EXPLAIN ANALYZE executes, and we would rather judge it.
  return !(s === 'off' || s === 'false' || s === 'no' || s === '0' || s === 'f' || s === 'n');
}

function securityDefiner(options: readonly Node[] | undefined): boolean {
  return defElems(options).some((d) => d.defname === 'security' && optionOn(d));
}

export function classify(stmt: Node, text: string): Classification {
  const tag = tagOf(stmt) ?? '';
  const body = isObject(stmt) && isObject((stmt as Record<string, unknown>)[tag]) ? (stmt as Record<string, unknown>)[tag] as Record<string, unknown> : {};
  const c = specific(tag, body, text);
  const targetField = TARGET_FIELDS[tag];
  if (targetField !== undefined) {
    const rv = rangeVarBody(body[targetField]);
    if (rv !== undefined) c.targets = [...c.targets, rv];
  }
  if (PRIVILEGE_TAGS.has(tag)) c.risks = [...c.risks, 'privilegeChange'];
  return c;
}

function specific(tag: string, body: Record<string, unknown>, text: string): Draft {
  switch (tag) {
    case 'SelectStmt': {
      const into = (body as SelectStmt).intoClause;
      if (into === undefined) return { ...draft('select', 'select'), rows: 'lineage' };
      return { ...draft('ddl', 'select_into'), targets: into.rel === undefined ? [] : [into.rel] };
    }
    case 'InsertStmt': return { ...draft('insert', 'insert'), rows: 'lineage' };
    case 'UpdateStmt': return { ...draft('update', 'update'), rows: 'lineage' };
    case 'DeleteStmt': return { ...draft('delete', 'delete'), rows: 'lineage' };
    case 'MergeStmt': return { ...draft('merge', 'merge'), rows: 'lineage' };
    case 'CopyStmt': return copy(body as CopyStmt, text);
    case 'ExplainStmt': {
      const explain = body as ExplainStmt;
      const analyze = defElems(explain.options).some((d) => d.defname === 'analyze' && optionOn(d));
      return {
        ...draft('utility', 'explain'), skip: [explain.query],
        embedded: { text: explainBody(text), mode: analyze ? 'nested' : 'reads' },
      };
    }
    case 'PrepareStmt':
      return { ...draft('utility', 'prepare'), skip: [body.query], embedded: { text: prepareBody(text), mode: 'nested' } };
    case 'ExecuteStmt':
      // The prepared statement's text lives in the session; the adapter may resolve it.
      return { ...draft('utility', 'execute'), risks: ['dynamicSql'], rows: 'opaque' };
    case 'DeclareCursorStmt':
      return { ...draft('utility', 'declare_cursor'), embedded: { text: cursorQuery(text), mode: 'nested' } };
    case 'FetchStmt':
      return body.ismove === true ? draft('utility', 'move') : { ...draft('utility', 'fetch'), rows: 'opaque' };
    case 'DoStmt': {
      const args = defElems(body.args as Node[] | undefined);
      const code = stringOf(args.find((d) => d.defname === 'as')?.arg) ?? '';
      const language = (stringOf(args.find((d) => d.defname === 'language')?.arg) ?? 'plpgsql').toLowerCase();
      return { ...draft('procedural', 'do'), risks: ['dynamicSql'], doBlock: { language, body: code } };
    }
    case 'CallStmt': return { ...draft('procedural', 'call'), rows: 'opaque' };
    case 'TransactionStmt':
      return draft('tcl', TRANSACTION_COMMANDS[String((body as TransactionStmt).kind)] ?? 'transaction');
    case 'VariableSetStmt': return variableSet(body as VariableSetStmt);
    case 'DiscardStmt':
      // DISCARD ALL includes SET SESSION AUTHORIZATION DEFAULT: the session's identity changes.
      return { ...draft('utility', 'discard'), risks: body.target === 'DISCARD_ALL' ? ['privilegeChange'] : [] };
    case 'LoadStmt': return { ...draft('utility', 'load'), risks: ['fileAccess'] };
    case 'VacuumStmt': {
      const rels = ((body.rels ?? []) as Node[]).map((r) => bodyOf<{ relation?: RangeVar }>(r, 'VacuumRelation')?.relation);
      return { ...draft('utility', body.is_vacuumcmd === true ? 'vacuum' : 'analyze'), targets: rels.filter((r): r is RangeVar => r !== undefined) };
    }
    case 'CreateTableAsStmt': {
      const ctas = body as CreateTableAsStmt;
      const command = ctas.objtype === 'OBJECT_MATVIEW' ? 'create_materialized_view'
        : ctas.is_select_into === true ? 'select_into' : 'create_table_as';
      return { ...draft('ddl', command), targets: ctas.into?.rel === undefined ? [] : [ctas.into.rel] };
    }
    case 'AlterTableStmt': {
      const alter = body as AlterTableStmt;
      const cmds = (alter.cmds ?? []).map((n) => bodyOf<AlterTableCmd>(n, 'AlterTableCmd')?.subtype);
      const privilege = cmds.some((s) => s === 'AT_ChangeOwner' || s === 'AT_DisableRowSecurity' || s === 'AT_NoForceRowSecurity');
      return { ...draft('ddl', `alter_${objectWord(alter.objtype)}`), risks: privilege ? ['privilegeChange'] : [] };
    }
    case 'DropStmt': return drop(body as DropStmt);
    case 'TruncateStmt': {
      const rels = ((body.relations ?? []) as Node[]).map(rangeVarBody).filter((r): r is RangeVar => r !== undefined);
      return { ...draft('ddl', 'truncate'), targets: rels, risks: ['noWhere'] };
    }
    case 'CreatedbStmt': case 'DropdbStmt': case 'AlterDatabaseStmt': case 'AlterDatabaseSetStmt': case 'AlterDatabaseRefreshCollStmt': {
      const [kind, command] = FIXED[tag];
      const setting = isObject(body.setstmt) ? String(body.setstmt.name ?? '').toLowerCase() : '';
      return {
        ...draft(kind, command), writes: [{ name: String(body.dbname ?? '') }],
        risks: setting === 'role' || setting === 'session_authorization' ? ['privilegeChange'] : [],
      };
    }
    case 'CreateSchemaStmt': return { ...draft('ddl', 'create_schema'), writes: [{ name: String(body.schemaname ?? '') }] };
    case 'CreateExtensionStmt': case 'AlterExtensionStmt': case 'AlterExtensionContentsStmt': {
      const [kind, command] = FIXED[tag];
      return { ...draft(kind, command), writes: [{ name: String(body.extname ?? '') }] };
    }
    case 'CreateFunctionStmt': {
      const fn = body as CreateFunctionStmt;
      const options = defElems(fn.options);
      const risks: RiskFlag[] = [];
      if (fn.sql_body !== undefined || options.some((d) => d.defname === 'as')) risks.push('dynamicSql');
      if (securityDefiner(fn.options)) risks.push('privilegeChange');
      const ref = qualifiedRef(namesOf(fn.funcname));
      const language = (stringOf(options.find((d) => d.defname === 'language')?.arg) ?? 'sql').toLowerCase();
      const source = stringOf(listItems(options.find((d) => d.defname === 'as')?.arg)[0]);
      return {
        ...draft('ddl', fn.is_procedure === true ? 'create_procedure' : 'create_function'), risks, writes: ref === undefined ? [] : [ref],
        ...(source !== undefined ? { routineBody: { language, body: source } } : {}),
      };
    }
    case 'AlterFunctionStmt': {
      const ref = objectRefOf({ ObjectWithArgs: body.func });
      return {
        ...draft('ddl', `alter_${objectWord(String(body.objtype ?? 'OBJECT_FUNCTION'))}`),
        risks: securityDefiner(body.actions as Node[] | undefined) ? ['privilegeChange'] : [],
        writes: ref === undefined ? [] : [ref],
      };
    }
    case 'DefineStmt': return draft('ddl', `create_${objectWord(String(body.kind))}`);
    case 'RenameStmt': {
      const rename = body as RenameStmt;
      const type = rename.renameType === 'OBJECT_COLUMN' || rename.renameType === 'OBJECT_TABCONSTRAINT'
        ? rename.relationType : rename.renameType;
      return alterObject(type, rename.relation === undefined ? rename.object : undefined);
    }
    case 'AlterObjectSchemaStmt': case 'AlterOwnerStmt': case 'AlterObjectDependsStmt':
      return alterObject(String(body.objectType), body.relation === undefined ? body.object : undefined);
    case 'CommentStmt': case 'SecLabelStmt': {
      const [kind, command] = FIXED[tag];
      const ref = objectRefOf(body.object);
      return { ...draft(kind, command), writes: ref === undefined ? [] : [ref] };
    }
    case 'CreateTableSpaceStmt':
      return { ...draft('ddl', 'create_tablespace'), risks: ['fileAccess'] };
    case 'GrantStmt': {
      const grant = body as GrantStmt;
      const targets: RangeVar[] = [];
      const writes: ObjectRef[] = [];
      for (const object of grant.objects ?? []) {
        const rv = bodyOf<RangeVar>(object, 'RangeVar');
        if (rv !== undefined) { targets.push(rv); continue; }
        const ref = objectRefOf(object);
        if (ref !== undefined) writes.push(ref);
      }
      return { ...draft('dcl', grant.is_grant === true ? 'grant' : 'revoke'), targets, writes };
    }
    case 'GrantRoleStmt':
      return draft('dcl', body.is_grant === true ? 'grant' : 'revoke');
    case 'CreateForeignTableStmt': {
      const base = isObject(body.base) ? rangeVarBody(body.base.relation) : undefined;
      return { ...draft('ddl', 'create_foreign_table'), targets: base === undefined ? [] : [base] };
    }
    default: {
      const fixed = FIXED[tag];
      if (fixed !== undefined) return draft(fixed[0], fixed[1]);
      // A statement type this table does not know yet: fail closed, but name it.
      return draft('unknown', tag.replace(/Stmt$/, '').replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase() || 'unknown');
    }
  }
}

function alterObject(objectType: string | undefined, object: unknown): Draft {
  const word = objectWord(objectType);
  const kind: StatementKind = word === 'role' ? 'dcl' : 'ddl';
  const ref = object === undefined ? undefined : objectRefOf(object);
  return { ...draft(kind, `alter_${word}`), writes: ref === undefined ? [] : [ref], risks: word === 'role' ? ['privilegeChange'] : [] };
}

function copy(stmt: CopyStmt, text: string): Draft {
  const from = stmt.is_from === true;
  const program = stmt.is_program === true;
  const file = !program && stmt.filename !== undefined;
  const command = `copy_${from ? 'from' : 'to'}${program ? '_program' : file ? '_file' : ''}`;
  const c: Draft = { ...draft('copy', command), risks: program || file ? ['fileAccess'] : [], rows: from ? 'none' : 'lineage' };
  if (from && stmt.relation !== undefined) c.targets = [stmt.relation];
  const queryTag = tagOf(stmt.query);
  if (queryTag !== undefined && queryTag !== 'SelectStmt') c.embedded = { text: copyQuery(text), mode: 'nested' };
  return c;
}

function variableSet(stmt: VariableSetStmt): Draft {
  const name = (stmt.name ?? '').toLowerCase();
  const reset = stmt.kind === 'VAR_RESET';
  if (name === 'role') return { ...draft('dcl', reset ? 'reset_role' : 'set_role'), risks: ['privilegeChange'] };
  if (name === 'session_authorization') {
    return { ...draft('dcl', reset ? 'reset_session_authorization' : 'set_session_authorization'), risks: ['privilegeChange'] };
  }
  if (name === 'transaction' || name === 'session characteristics' || name === 'transaction snapshot') {
    return draft('tcl', 'set_transaction');
  }
  if (stmt.kind === 'VAR_RESET_ALL') return draft('utility', 'reset_all');
  return draft('utility', reset ? 'reset' : 'set');
}

function drop(stmt: DropStmt): Draft {
  const word = objectWord(stmt.removeType);
  const onTable = stmt.removeType === 'OBJECT_TRIGGER' || stmt.removeType === 'OBJECT_POLICY' || stmt.removeType === 'OBJECT_RULE';
  const writes: ObjectRef[] = [];
  for (const object of stmt.objects ?? []) {
    const ref = onTable ? qualifiedRef(namesOf(listItems(object)).slice(0, -1)) : objectRefOf(object);
    if (ref !== undefined) writes.push(ref);
  }
  return { ...draft('ddl', `drop_${word}`), writes };
}
