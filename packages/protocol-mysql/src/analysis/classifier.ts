import type { Lineage, ObjectRef, RiskFlag, StatementKind } from '@querygate/core';
import { identName, unquote, type Token } from './lexer';
import { upper } from './splitter';

/** A token range [from, to) of the statement. */
export interface TokenRange { readonly from: number; readonly to: number }

/**
 * What the leading keywords say about a statement. Produced for every statement (it is cheap);
 * node-sql-parser then refines `query` ranges into objects, functions and lineage.
 */
export interface Classification {
  kind: StatementKind;
  command: string;
  reads: ObjectRef[];
  writes: ObjectRef[];
  risks: Set<RiskFlag>;
  /**
   * A query node-sql-parser must read: `statement` = the whole DML statement (objects, WHERE,
   * lineage come from it), `reads` = an embedded query whose tables are read (CREATE VIEW ... AS).
   */
  query?: TokenRange & { readonly role: 'statement' | 'reads' };
  /** Statements the server also runs: a PREPARE'd literal (`text`) or a slice of this one (`range`). */
  nested: ({ readonly text: string } | { readonly range: TokenRange })[];
  /** The nested statement executes as part of this one (EXPLAIN ANALYZE): merge its objects/risks. */
  mergeNested?: boolean;
  /** Lineage the keywords alone determine (HANDLER ... READ, TABLE t). */
  lineage?: Lineage;
  /** For UPDATE/DELETE: a WHERE at the top level (the fallback when the parser fails). */
  hasWhere?: boolean;
}

/** A cursor over one statement's tokens. */
class Cursor {
  i = 0;
  constructor(readonly tokens: readonly Token[]) {}
  word(k = 0): string { return upper(this.tokens[this.i + k]); }
  raw(k = 0): string { return this.tokens[this.i + k]?.raw ?? ''; }
  get done(): boolean { return this.i >= this.tokens.length; }
  /** Consumes the next word if it is one of `words`. */
  accept(...words: string[]): boolean {
    if (words.includes(this.word())) { this.i++; return true; }
    return false;
  }
  acceptSeq(...words: string[]): boolean {
    for (let k = 0; k < words.length; k++) if (this.word(k) !== words[k]) return false;
    this.i += words.length;
    return true;
  }
  acceptRaw(raw: string): boolean {
    if (this.raw() === raw) { this.i++; return true; }
    return false;
  }
  /** `DEFINER = user@host | CURRENT_USER[()]`, `ALGORITHM = x`, `SQL SECURITY x`, `OR REPLACE`... */
  skipRoutinePrefixes(): void {
    for (;;) {
      if (this.acceptSeq('OR', 'REPLACE')) continue;
      if (this.word() === 'DEFINER' || this.word() === 'ALGORITHM') {
        this.i++;
        this.acceptRaw('=');
        this.i++;
        if (this.raw() === '@') this.i += 2;
        else if (this.tokens[this.i]?.type === 'variable') this.i++; // `root`@localhost lexes as a variable
        if (this.raw() === '(' && this.raw(1) === ')') this.i += 2;
        continue;
      }
      if (this.acceptSeq('SQL', 'SECURITY')) { this.i++; continue; }
      if (this.accept('AGGREGATE', 'TEMPORARY', 'ONLINE', 'OFFLINE', 'IGNORE', 'NONATOMIC')) continue;
      return;
    }
  }
  acceptIfExists(): void {
    if (this.acceptSeq('IF', 'NOT', 'EXISTS')) return;
    this.acceptSeq('IF', 'EXISTS');
  }
  /** `[schema.]name`, or undefined when the next token is not a name. */
  name(): ObjectRef | undefined {
    const t = this.tokens[this.i];
    if (t === undefined || (t.type !== 'word' && t.type !== 'ident')) return undefined;
    this.i++;
    const first = identName(t);
    const next = this.tokens[this.i + 1];
    if (this.raw() === '.' && next !== undefined && (next.type === 'word' || next.type === 'ident' || next.raw === '*')) {
      this.i += 2;
      return { schema: first, name: next.raw === '*' ? '*' : identName(next) };
    }
    return { name: first };
  }
  /** `name [, name ...]`, skipping per-item suffixes such as `AS alias` or `READ`. */
  names(stopWords: readonly string[] = []): ObjectRef[] {
    const out: ObjectRef[] = [];
    for (;;) {
      const n = this.name();
      if (n === undefined) break;
      out.push(n);
      while (!this.done && this.raw() !== ',' && !stopWords.includes(this.word())) this.skipBalanced();
      if (!this.acceptRaw(',')) break;
    }
    return out;
  }
  /** Skips one token, or a whole parenthesised group. */
  skipBalanced(): void {
    if (this.raw() !== '(') { this.i++; return; }
    let depth = 0;
    while (!this.done) {
      const r = this.raw();
      this.i++;
      if (r === '(') depth++;
      else if (r === ')' && --depth === 0) return;
    }
  }
  /** Index of the first top-level (paren depth 0) word in `words` from the cursor on, or -1. */
  findTopLevel(words: readonly string[], from = this.i): number {
    let depth = 0;
    for (let k = from; k < this.tokens.length; k++) {
      const r = this.tokens[k]?.raw;
      if (r === '(') depth++;
      else if (r === ')') depth--;
      else if (depth === 0 && words.includes(upper(this.tokens[k]))) return k;
    }
    return -1;
  }
}

const PRIVILEGE: RiskFlag = 'privilegeChange';

function make(kind: StatementKind, command: string, risks: RiskFlag[] = []): Classification {
  return { kind, command, reads: [], writes: [], risks: new Set(risks), nested: [] };
}

const UNKNOWN = (): Classification => make('unknown', 'unknown', ['unparsed']);

/** Statement-starting words inside stored-program bodies (see `bodyStatements`). */
const BODY_STATEMENT_WORDS = new Set([
  'SELECT', 'INSERT', 'REPLACE', 'UPDATE', 'DELETE', 'CREATE', 'ALTER', 'DROP', 'GRANT', 'REVOKE',
  'TRUNCATE', 'RENAME', 'LOAD', 'SET', 'CALL', 'PREPARE', 'EXECUTE', 'DEALLOCATE', 'INSTALL',
  'UNINSTALL', 'FLUSH', 'KILL', 'SHUTDOWN', 'HANDLER', 'LOCK', 'UNLOCK', 'DO', 'WITH', 'START', 'COMMIT',
  'ROLLBACK', 'SAVEPOINT', 'SHOW', 'ANALYZE', 'OPTIMIZE', 'REPAIR', 'RESET', 'PURGE', 'BINLOG',
  'CHANGE', 'IMPORT', 'CLONE', 'RESTART', 'TABLE', 'VALUES',
]);
/** Words after which a body statement may start. */
const BODY_POSITIONS = new Set(['BEGIN', 'THEN', 'ELSE', 'DO', 'LOOP', 'REPEAT', 'ATOMIC', 'ROW', 'FOR']);

/**
 * The statements inside a stored program or compound statement, as token ranges: each starts with
 * a statement word at a statement position and ends at its `;`. Control flow (IF, WHILE...) is
 * skipped; the statements it guards are still found.
 */
function bodyStatements(tokens: readonly Token[], from: number): TokenRange[] {
  const out: TokenRange[] = [];
  let i = from;
  while (i < tokens.length) {
    const prev = tokens[i - 1];
    const atPosition = prev === undefined || prev.type === 'semi' || prev.raw === ':' || BODY_POSITIONS.has(upper(prev));
    if (atPosition && BODY_STATEMENT_WORDS.has(upper(tokens[i]))) {
      let depth = 0;
      let j = i;
      for (; j < tokens.length; j++) {
        const r = tokens[j]?.raw;
        if (r === '(') depth++;
        else if (r === ')') depth--;
        else if (depth <= 0 && tokens[j]?.type === 'semi') break;
      }
      out.push({ from: i, to: j });
      i = j + 1;
      continue;
    }
    i++;
  }
  return out;
}

function withBody(c: Classification, tokens: readonly Token[], from: number): Classification {
  for (const range of bodyStatements(tokens, from)) c.nested.push({ range });
  return c;
}

/** Index of the SELECT/WITH/`(` that starts the query embedded after `from`, at paren depth 0. */
function embeddedQuery(cur: Cursor, from: number): number {
  let depth = 0;
  for (let k = from; k < cur.tokens.length; k++) {
    const t = cur.tokens[k] as Token;
    const w = upper(t);
    if (depth === 0 && (w === 'SELECT' || w === 'WITH' || w === 'VALUES' || w === 'TABLE')) return k;
    if (t.raw === '(') {
      if (upper(cur.tokens[k + 1]) === 'SELECT' || upper(cur.tokens[k + 1]) === 'WITH') return k;
      depth++;
    } else if (t.raw === ')') depth--;
  }
  return -1;
}

export function classify(tokens: readonly Token[]): Classification {
  if (tokens.length === 0) return UNKNOWN();
  const cur = new Cursor(tokens);
  const head = cur.word();
  if (cur.raw() === '(') return classifyQuery(cur);
  switch (head) {
    case 'SELECT': case 'WITH': case 'VALUES': case 'TABLE':
      return classifyQuery(cur);
    case 'INSERT': case 'REPLACE': return classifyInsert(cur, head.toLowerCase());
    case 'UPDATE': return classifyUpdate(cur);
    case 'DELETE': return classifyDelete(cur);
    case 'LOAD': return classifyLoad(cur);
    case 'CREATE': return classifyCreate(cur);
    case 'ALTER': return classifyAlter(cur);
    case 'DROP': return classifyDrop(cur);
    case 'RENAME': {
      cur.i++;
      if (cur.accept('USER')) return make('dcl', 'rename_user', [PRIVILEGE]);
      if (cur.accept('TABLE', 'TABLES')) {
        const c = make('ddl', 'rename_table');
        for (;;) {
          const from = cur.name();
          if (from === undefined) break;
          c.writes.push(from);
          if (cur.accept('TO')) { const to = cur.name(); if (to !== undefined) c.writes.push(to); }
          if (!cur.acceptRaw(',')) break;
        }
        return c;
      }
      return UNKNOWN();
    }
    case 'TRUNCATE': {
      cur.i++;
      cur.accept('TABLE');
      const c = make('ddl', 'truncate');
      const n = cur.name();
      if (n !== undefined) c.writes.push(n);
      return c;
    }
    case 'GRANT': return make('dcl', 'grant', [PRIVILEGE]);
    case 'REVOKE': return make('dcl', 'revoke', [PRIVILEGE]);
    case 'SET': return classifySet(cur);
    case 'SHOW': return make('utility', 'show');
    case 'DESCRIBE': case 'DESC': case 'EXPLAIN': return classifyExplain(cur);
    case 'ANALYZE': {
      const next = upper(tokens[1]);
      if (next === 'TABLE' || next === 'NO_WRITE_TO_BINLOG' || next === 'LOCAL') return tableMaintenance(cur, 'analyze_table');
      // MariaDB's ANALYZE <statement> runs the statement and reports the plan.
      if (tokens.length > 1) {
        const c = make('utility', 'explain_analyze');
        c.nested.push({ range: { from: 1, to: tokens.length } });
        c.mergeNested = true;
        return c;
      }
      return UNKNOWN();
    }
    case 'OPTIMIZE': return tableMaintenance(cur, 'optimize_table');
    case 'CHECK': return tableMaintenance(cur, 'check_table');
    case 'REPAIR': return tableMaintenance(cur, 'repair_table');
    case 'CHECKSUM': return tableMaintenance(cur, 'checksum_table');
    case 'USE': return make('utility', 'use');
    case 'BEGIN':
      if (upper(tokens[1]) === 'NOT') return withBody(make('procedural', 'compound_statement', ['dynamicSql']), tokens, 1);
      return make('tcl', 'begin');
    case 'START':
      if (upper(tokens[1]) === 'TRANSACTION') return make('tcl', 'begin');
      if (upper(tokens[1]) === 'SLAVE' || upper(tokens[1]) === 'REPLICA' || upper(tokens[1]) === 'ALL') return make('utility', 'start_replica');
      return make('utility', 'start');
    case 'STOP':
      return make('utility', upper(tokens[1]) === 'SLAVE' || upper(tokens[1]) === 'REPLICA' || upper(tokens[1]) === 'ALL' ? 'stop_replica' : 'stop');
    case 'COMMIT': return make('tcl', 'commit');
    case 'ROLLBACK': {
      const to = cur.findTopLevel(['TO']);
      return make('tcl', to >= 0 ? 'rollback_to_savepoint' : 'rollback');
    }
    case 'SAVEPOINT': return make('tcl', 'savepoint');
    case 'RELEASE': return make('tcl', 'release_savepoint');
    case 'XA': return make('tcl', 'xa');
    case 'LOCK': return classifyLock(cur);
    case 'UNLOCK': return make('tcl', upper(tokens[1]) === 'INSTANCE' ? 'unlock_instance' : 'unlock_tables');
    case 'CALL': {
      cur.i++;
      const c = make('procedural', 'call');
      // Result sets of a procedure are invisible to the analyser.
      c.lineage = { outputs: [], complete: false };
      if (embeddedQuery(cur, cur.i) >= 0) c.query = { from: 0, to: tokens.length, role: 'reads' };
      return c;
    }
    case 'PREPARE': {
      const c = make('procedural', 'prepare', ['dynamicSql']);
      if (upper(tokens[2]) === 'FROM' && tokens[3]?.type === 'string') c.nested.push({ text: unquote(tokens[3].raw) });
      return c;
    }
    case 'EXECUTE': {
      if (upper(tokens[1]) === 'IMMEDIATE') {
        const c = make('procedural', 'execute_immediate', ['dynamicSql']);
        if (tokens[2]?.type === 'string') c.nested.push({ text: unquote(tokens[2].raw) });
        c.lineage = { outputs: [], complete: false };
        return c;
      }
      const c = make('procedural', 'execute', ['dynamicSql']);
      c.lineage = { outputs: [], complete: false };
      return c;
    }
    case 'DEALLOCATE': return make('procedural', 'deallocate');
    case 'DO': {
      const c = make('utility', 'do');
      if (embeddedQuery(cur, 1) >= 0) c.query = { from: 0, to: tokens.length, role: 'reads' };
      return c;
    }
    case 'KILL': return make('utility', 'kill');
    case 'FLUSH': return make('utility', 'flush');
    case 'RESET': return make('utility', 'reset');
    case 'PURGE': return make('utility', 'purge_binary_logs');
    case 'SHUTDOWN': return make('utility', 'shutdown');
    case 'RESTART': return make('utility', 'restart');
    case 'HANDLER': return classifyHandler(cur);
    case 'INSTALL': return make('utility', 'install_plugin', ['fileAccess']);
    case 'UNINSTALL': return make('utility', 'uninstall_plugin');
    case 'CACHE': return make('utility', 'cache_index');
    case 'CHANGE': return make('utility', 'change_master');
    case 'BINLOG': return make('utility', 'binlog', ['dynamicSql']);
    case 'HELP': return make('utility', 'help');
    case 'SIGNAL': case 'RESIGNAL': return make('procedural', head.toLowerCase());
    case 'GET': return make('utility', 'get_diagnostics');
    case 'IMPORT': {
      const c = make('ddl', 'import_table', ['fileAccess']);
      cur.i++;
      if (cur.accept('TABLE')) cur.accept('FROM');
      return c;
    }
    case 'CLONE': return make('utility', 'clone', ['fileAccess']);
    case 'BACKUP': return make('utility', 'backup');
    case 'IF': case 'CASE': case 'LOOP': case 'WHILE': case 'REPEAT':
      return withBody(make('procedural', 'compound_statement', ['dynamicSql']), tokens, 0);
    default:
      // `label: BEGIN NOT ATOMIC ...`
      if (tokens[1]?.raw === ':') return withBody(make('procedural', 'compound_statement', ['dynamicSql']), tokens, 2);
      return UNKNOWN();
  }
}

function classifyQuery(cur: Cursor): Classification {
  const tokens = cur.tokens;
  let main = cur.word();
  if (main === 'WITH') {
    // The statement after the CTE list decides (MySQL 8 allows WITH ... UPDATE / DELETE).
    cur.i++;
    cur.accept('RECURSIVE');
    for (;;) {
      cur.name();
      if (cur.raw() === '(') cur.skipBalanced();
      if (!cur.accept('AS')) break;
      cur.skipBalanced();
      if (!cur.acceptRaw(',')) break;
    }
    main = cur.word();
    if (main === 'UPDATE') { const c = classifyUpdate(cur); c.query = { from: 0, to: tokens.length, role: 'statement' }; return c; }
    if (main === 'DELETE') { const c = classifyDelete(cur); c.query = { from: 0, to: tokens.length, role: 'statement' }; return c; }
    if (main !== 'SELECT' && cur.raw() !== '(' && main !== 'VALUES' && main !== 'TABLE') return UNKNOWN();
  }
  let into = '';
  for (let k = 0; k < tokens.length - 1; k++) {
    if (upper(tokens[k]) === 'INTO') {
      const w = upper(tokens[k + 1]);
      if (w === 'OUTFILE' || w === 'DUMPFILE') { into = w; break; }
    }
  }
  const c = into === 'OUTFILE' ? make('copy', 'select_into_outfile', ['fileAccess'])
    : into === 'DUMPFILE' ? make('copy', 'select_into_dumpfile', ['fileAccess'])
      : make('select', 'select');
  if (cur.i === 0 && main === 'TABLE') {
    // MySQL 8 `TABLE t`: every column of t.
    cur.i++;
    const n = cur.name();
    if (n !== undefined) {
      c.reads.push(n);
      c.lineage = { outputs: [{ sources: [tableStar(n)], direct: true, expands: true }], complete: true };
    } else c.risks.add('unparsed');
    return c;
  }
  if (cur.i === 0 && main === 'VALUES') {
    c.lineage = { outputs: [], complete: false };
    // Its rows may hold subqueries: what they read must still be known.
    c.query = { from: 0, to: tokens.length, role: 'reads' };
    return c;
  }
  c.query = { from: 0, to: tokens.length, role: 'statement' };
  return c;
}

function tableStar(n: ObjectRef): { schema?: string; table: string; column: string } {
  return n.schema === undefined ? { table: n.name, column: '*' } : { schema: n.schema, table: n.name, column: '*' };
}

function classifyInsert(cur: Cursor, command: string): Classification {
  const c = make('insert', command);
  cur.i++;
  while (cur.accept('LOW_PRIORITY', 'DELAYED', 'HIGH_PRIORITY', 'IGNORE')) { /* modifiers */ }
  cur.accept('INTO');
  const n = cur.name();
  if (n !== undefined) c.writes.push(n);
  c.query = { from: 0, to: cur.tokens.length, role: 'statement' };
  return c;
}

function classifyUpdate(cur: Cursor): Classification {
  const c = make('update', 'update');
  const start = cur.i;
  cur.i++;
  while (cur.accept('LOW_PRIORITY', 'IGNORE')) { /* modifiers */ }
  const setAt = cur.findTopLevel(['SET']);
  const end = setAt < 0 ? cur.tokens.length : setAt;
  // Fallback objects when the parser fails: every table named before SET is written.
  for (; cur.i < end; cur.i++) {
    const prev = upper(cur.tokens[cur.i - 1]);
    if (cur.i === start + 1 || prev === 'JOIN' || cur.tokens[cur.i - 1]?.raw === ',' || prev === 'IGNORE' || prev === 'LOW_PRIORITY') {
      const save = cur.i;
      const n = cur.name();
      if (n !== undefined && !isKeywordName(n)) c.writes.push(n);
      cur.i = Math.max(save, cur.i - 1);
    }
  }
  c.hasWhere = cur.findTopLevel(['WHERE'], end) >= 0;
  c.query = { from: 0, to: cur.tokens.length, role: 'statement' };
  return c;
}

function classifyDelete(cur: Cursor): Classification {
  const c = make('delete', 'delete');
  cur.i++;
  while (cur.accept('LOW_PRIORITY', 'QUICK', 'IGNORE')) { /* modifiers */ }
  const fromAt = cur.findTopLevel(['FROM']);
  if (fromAt === cur.i) {
    cur.i++;
    c.writes.push(...cur.names(['USING', 'WHERE', 'ORDER', 'LIMIT', 'PARTITION', 'AS', 'RETURNING']));
  } else {
    c.writes.push(...cur.names(['FROM']));
  }
  c.hasWhere = cur.findTopLevel(['WHERE'], Math.max(fromAt, 0)) >= 0;
  c.query = { from: 0, to: cur.tokens.length, role: 'statement' };
  return c;
}

const NAME_KEYWORDS = new Set(['SET', 'JOIN', 'INNER', 'LEFT', 'RIGHT', 'CROSS', 'STRAIGHT_JOIN', 'NATURAL', 'ON', 'USING', 'AS', 'WHERE']);
function isKeywordName(n: ObjectRef): boolean {
  return n.schema === undefined && NAME_KEYWORDS.has(n.name.toUpperCase());
}

function classifyLoad(cur: Cursor): Classification {
  cur.i++;
  const what = cur.word();
  if (what === 'INDEX') return make('utility', 'load_index');
  if (what !== 'DATA' && what !== 'XML') return UNKNOWN();
  cur.i++;
  while (cur.accept('LOW_PRIORITY', 'CONCURRENT')) { /* modifiers */ }
  const local = cur.accept('LOCAL');
  const base = what === 'DATA' ? 'load_data' : 'load_xml';
  // LOCAL makes the server ask the CLIENT for the file: through a gateway that is the gateway's own
  // file system, so it gets a command of its own that the adapter always refuses.
  const c = make('copy', local ? `${base}_local` : base, ['fileAccess']);
  const intoAt = cur.findTopLevel(['INTO']);
  if (intoAt >= 0) {
    cur.i = intoAt + 1;
    cur.accept('TABLE');
    const n = cur.name();
    if (n !== undefined) c.writes.push(n);
  }
  return c;
}

function classifyCreate(cur: Cursor): Classification {
  const tokens = cur.tokens;
  cur.i++;
  cur.skipRoutinePrefixes();
  if (cur.accept('UNIQUE', 'FULLTEXT', 'SPATIAL')) { /* index flavours */ }
  const object = cur.word();
  cur.i++;
  switch (object) {
    case 'TABLE': {
      cur.acceptIfExists();
      const c = make('ddl', 'create_table');
      const n = cur.name();
      if (n !== undefined) c.writes.push(n);
      const like = cur.findTopLevel(['LIKE']);
      if (like >= 0) { cur.i = like + 1; const src = cur.name(); if (src !== undefined) c.reads.push(src); }
      else if (cur.raw() === '(' && upper(tokens[cur.i + 1]) === 'LIKE') { cur.i += 2; const src = cur.name(); if (src !== undefined) c.reads.push(src); }
      const q = embeddedQuery(cur, cur.i);
      if (q >= 0) c.query = { from: q, to: tokens.length, role: 'reads' };
      return c;
    }
    case 'DATABASE': case 'SCHEMA': {
      cur.acceptIfExists();
      const c = make('ddl', 'create_database');
      const n = cur.name();
      if (n !== undefined) c.writes.push({ schema: n.name, name: '*' });
      return c;
    }
    case 'VIEW': {
      cur.acceptIfExists();
      const c = make('ddl', 'create_view');
      const n = cur.name();
      if (n !== undefined) c.writes.push(n);
      const as = cur.findTopLevel(['AS']);
      if (as >= 0) c.query = { from: as + 1, to: tokens.length, role: 'reads' };
      return c;
    }
    case 'INDEX': {
      const c = make('ddl', 'create_index');
      const on = cur.findTopLevel(['ON']);
      if (on >= 0) { cur.i = on + 1; const n = cur.name(); if (n !== undefined) c.writes.push(n); }
      return c;
    }
    case 'USER': return make('dcl', 'create_user', [PRIVILEGE]);
    case 'ROLE': return make('dcl', 'create_role', [PRIVILEGE]);
    case 'FUNCTION': case 'PROCEDURE': case 'TRIGGER': case 'EVENT': case 'PACKAGE': {
      const command = `create_${object.toLowerCase()}`;
      const c = make('procedural', command, ['dynamicSql']);
      if (object === 'PACKAGE') cur.accept('BODY');
      cur.acceptIfExists();
      const n = cur.name();
      if (n !== undefined) c.writes.push(n);
      if (object === 'FUNCTION' && cur.findTopLevel(['SONAME']) >= 0) {
        // A loadable function: native code from a shared library in plugin_dir.
        c.risks.add('fileAccess');
        return c;
      }
      if (object === 'TRIGGER') {
        const on = cur.findTopLevel(['ON']);
        if (on >= 0) { cur.i = on + 1; const t = cur.name(); if (t !== undefined) c.writes.push(t); }
      }
      return withBody(c, tokens, cur.i);
    }
    case 'SEQUENCE': case 'SERVER': case 'TABLESPACE': case 'LOGFILE': case 'SPATIAL': case 'RESOURCE': {
      const c = make('ddl', `create_${object.toLowerCase()}`);
      if (object === 'SEQUENCE') { cur.acceptIfExists(); const n = cur.name(); if (n !== undefined) c.writes.push(n); }
      return c;
    }
    default:
      return UNKNOWN();
  }
}

function classifyAlter(cur: Cursor): Classification {
  const tokens = cur.tokens;
  cur.i++;
  cur.skipRoutinePrefixes();
  const object = cur.word();
  cur.i++;
  switch (object) {
    case 'TABLE': {
      const c = make('ddl', 'alter_table');
      const n = cur.name();
      if (n !== undefined) c.writes.push(n);
      return c;
    }
    case 'DATABASE': case 'SCHEMA': {
      const c = make('ddl', 'alter_database');
      const n = cur.name();
      if (n !== undefined && n.name.toUpperCase() !== 'CHARACTER' && n.name.toUpperCase() !== 'DEFAULT') c.writes.push({ schema: n.name, name: '*' });
      return c;
    }
    case 'VIEW': {
      const c = make('ddl', 'alter_view');
      const n = cur.name();
      if (n !== undefined) c.writes.push(n);
      const as = cur.findTopLevel(['AS']);
      if (as >= 0) c.query = { from: as + 1, to: tokens.length, role: 'reads' };
      return c;
    }
    case 'USER': return make('dcl', 'alter_user', [PRIVILEGE]);
    case 'ROLE': return make('dcl', 'alter_role', [PRIVILEGE]);
    case 'EVENT': {
      const c = make('procedural', 'alter_event');
      const n = cur.name();
      if (n !== undefined) c.writes.push(n);
      const doAt = cur.findTopLevel(['DO']);
      if (doAt >= 0) { c.risks.add('dynamicSql'); withBody(c, tokens, doAt); }
      return c;
    }
    case 'FUNCTION': case 'PROCEDURE': case 'SEQUENCE': case 'SERVER': case 'TABLESPACE': case 'LOGFILE': case 'RESOURCE': case 'INSTANCE': {
      const c = make('ddl', `alter_${object.toLowerCase()}`);
      if (object === 'FUNCTION' || object === 'PROCEDURE' || object === 'SEQUENCE') { const n = cur.name(); if (n !== undefined) c.writes.push(n); }
      return c;
    }
    default:
      return UNKNOWN();
  }
}

function classifyDrop(cur: Cursor): Classification {
  cur.i++;
  cur.accept('TEMPORARY');
  const object = cur.word();
  cur.i++;
  switch (object) {
    case 'TABLE': case 'TABLES': {
      cur.acceptIfExists();
      const c = make('ddl', 'drop_table');
      c.writes.push(...cur.names(['RESTRICT', 'CASCADE']));
      return c;
    }
    case 'DATABASE': case 'SCHEMA': {
      cur.acceptIfExists();
      const c = make('ddl', 'drop_database');
      const n = cur.name();
      if (n !== undefined) c.writes.push({ schema: n.name, name: '*' });
      return c;
    }
    case 'VIEW': {
      cur.acceptIfExists();
      const c = make('ddl', 'drop_view');
      c.writes.push(...cur.names(['RESTRICT', 'CASCADE']));
      return c;
    }
    case 'INDEX': {
      const c = make('ddl', 'drop_index');
      const on = cur.findTopLevel(['ON']);
      if (on >= 0) { cur.i = on + 1; const n = cur.name(); if (n !== undefined) c.writes.push(n); }
      return c;
    }
    case 'USER': return make('dcl', 'drop_user', [PRIVILEGE]);
    case 'ROLE': return make('dcl', 'drop_role', [PRIVILEGE]);
    case 'PREPARE': return make('procedural', 'deallocate');
    case 'FUNCTION': case 'PROCEDURE': case 'TRIGGER': case 'EVENT': case 'PACKAGE': case 'SEQUENCE':
    case 'SERVER': case 'TABLESPACE': case 'LOGFILE': case 'SPATIAL': case 'RESOURCE': {
      const c = make('ddl', `drop_${object.toLowerCase()}`);
      if (object === 'PACKAGE') cur.accept('BODY');
      cur.acceptIfExists();
      if (object !== 'SERVER' && object !== 'TABLESPACE' && object !== 'LOGFILE' && object !== 'SPATIAL' && object !== 'RESOURCE') {
        const n = cur.name();
        if (n !== undefined) c.writes.push(n);
      }
      return c;
    }
    default:
      return UNKNOWN();
  }
}

const GLOBAL_SCOPES = new Set(['GLOBAL', 'PERSIST', 'PERSIST_ONLY']);

function classifySet(cur: Cursor): Classification {
  const tokens = cur.tokens;
  const w1 = upper(tokens[1]);
  const w2 = upper(tokens[2]);
  if (w1 === 'ROLE') return make('dcl', 'set_role', [PRIVILEGE]);
  if (w1 === 'DEFAULT' && w2 === 'ROLE') return make('dcl', 'set_default_role', [PRIVILEGE]);
  if (w1 === 'PASSWORD') return make('dcl', 'set_password', [PRIVILEGE]);
  if (w1 === 'TRANSACTION' || ((w1 === 'GLOBAL' || w1 === 'SESSION' || w1 === 'LOCAL') && w2 === 'TRANSACTION')) {
    return make('tcl', 'set_transaction');
  }
  if (w1 === 'NAMES' || w1 === 'CHARSET' || (w1 === 'CHARACTER' && w2 === 'SET')) return make('utility', 'set_names');
  if (w1 === 'STATEMENT') {
    // MariaDB `SET STATEMENT var=value[, ...] FOR <statement>` runs <statement>: judge that.
    const forAt = cur.findTopLevel(['FOR'], 2);
    if (forAt < 0 || forAt + 1 >= tokens.length) return UNKNOWN();
    const inner = classify(tokens.slice(forAt + 1));
    return shift(inner, forAt + 1);
  }
  let global = false;
  for (let k = 1; k < tokens.length; k++) {
    const t = tokens[k] as Token;
    if (t.type === 'word' && GLOBAL_SCOPES.has(t.raw.toUpperCase())) {
      const prev = tokens[k - 1];
      if (k === 1 || prev?.raw === ',') global = true;
    }
    if (t.type === 'variable' && /^@@(global|persist|persist_only)\./i.test(t.raw)) global = true;
  }
  const c = make('utility', global ? 'set_global' : 'set');
  if (embeddedQuery(cur, 1) >= 0) c.query = { from: 0, to: tokens.length, role: 'reads' };
  return c;
}

/** Re-bases the token ranges of a classification made on `tokens.slice(offset)`. */
function shift(c: Classification, offset: number): Classification {
  if (c.query !== undefined) c.query = { from: c.query.from + offset, to: c.query.to + offset, role: c.query.role };
  c.nested = c.nested.map((n) => ('range' in n ? { range: { from: n.range.from + offset, to: n.range.to + offset } } : n));
  return c;
}

const EXPLAINABLE = new Set(['SELECT', 'INSERT', 'REPLACE', 'UPDATE', 'DELETE', 'TABLE', 'WITH', 'VALUES']);

function classifyExplain(cur: Cursor): Classification {
  const tokens = cur.tokens;
  cur.i++;
  let analyze = false;
  for (;;) {
    if (cur.accept('ANALYZE')) { analyze = true; continue; }
    if (cur.accept('EXTENDED', 'PARTITIONS')) continue;
    if (cur.word() === 'FORMAT' && cur.raw(1) === '=') { cur.i += 3; continue; }
    break;
  }
  if (cur.acceptSeq('FOR', 'CONNECTION')) return make('utility', 'explain');
  if (EXPLAINABLE.has(cur.word()) || cur.raw() === '(') {
    // Plain EXPLAIN does not run the statement, but policy still sees it: failing closed is cheaper
    // than proving the server will not run it (EXPLAIN ANALYZE does).
    const c = make('utility', analyze ? 'explain_analyze' : 'explain');
    c.nested.push({ range: { from: cur.i, to: tokens.length } });
    c.mergeNested = analyze;
    return c;
  }
  const c = make('utility', 'describe');
  const n = cur.name();
  if (n !== undefined) c.reads.push(n);
  return c;
}

function tableMaintenance(cur: Cursor, command: string): Classification {
  const c = make('utility', command);
  cur.i++;
  cur.accept('NO_WRITE_TO_BINLOG', 'LOCAL');
  if (cur.accept('TABLE', 'TABLES')) {
    const names = cur.names(['QUICK', 'FAST', 'MEDIUM', 'EXTENDED', 'CHANGED', 'FOR', 'USE_FRM', 'PERSISTENT', 'UPDATE', 'DROP']);
    if (command === 'repair_table' || command === 'optimize_table') c.writes.push(...names);
    else c.reads.push(...names);
  }
  return c;
}

function classifyLock(cur: Cursor): Classification {
  cur.i++;
  if (cur.accept('INSTANCE')) return make('tcl', 'lock_instance');
  if (!cur.accept('TABLE', 'TABLES')) return UNKNOWN();
  const c = make('tcl', 'lock_tables');
  for (;;) {
    const n = cur.name();
    if (n === undefined) break;
    let write = false;
    while (!cur.done && cur.raw() !== ',') {
      if (cur.word() === 'WRITE') write = true;
      cur.i++;
    }
    (write ? c.writes : c.reads).push(n);
    if (!cur.acceptRaw(',')) break;
  }
  return c;
}

function classifyHandler(cur: Cursor): Classification {
  cur.i++;
  const n = cur.name();
  const action = cur.word();
  if (n === undefined) return UNKNOWN();
  if (action === 'READ') {
    // Returns whole rows of the table; `n` may be an alias set by HANDLER ... OPEN AS, so the
    // lineage is not complete.
    const c = make('select', 'handler');
    c.reads.push(n);
    c.lineage = { outputs: [{ sources: [tableStar(n)], direct: true, expands: true }], complete: false };
    return c;
  }
  const c = make('utility', 'handler');
  c.reads.push(n);
  return c;
}

/** Lexer-level view of the functions a statement calls: `name(` not in a table-name position. */
const NOT_FUNCTIONS = new Set(`
IN VALUES VALUE AS EXISTS USING ROW KEY INDEX PRIMARY UNIQUE CHECK FOREIGN REFERENCES ON AND OR NOT
WHERE SELECT FROM JOIN OVER PARTITION WINDOW ENUM SET CHAR CHARACTER VARCHAR INT INTEGER TINYINT
SMALLINT MEDIUMINT BIGINT DECIMAL DEC NUMERIC FLOAT DOUBLE REAL BIT BINARY VARBINARY DATETIME TIMESTAMP
TIME YEAR TEXT BLOB TINYTEXT MEDIUMTEXT LONGTEXT TINYBLOB MEDIUMBLOB LONGBLOB JSON RETURNS INTO TABLE
LIKE ALL ANY SOME DISTINCT WITH RECURSIVE UNION EXCEPT INTERSECT LATERAL DUAL USE FORCE IGNORE FOR
THEN ELSE WHEN CASE RETURN THAN BY HAVING LIMIT ORDER GROUP VARCHARACTER NCHAR NVARCHAR UNSIGNED
SIGNED AGAINST COLUMNS FIELDS LINES MATCH STRAIGHT_JOIN
`.trim().split(/\s+/));
const NAME_POSITIONS = new Set([
  'INTO', 'TABLE', 'JOIN', 'FROM', 'UPDATE', 'REFERENCES', 'TABLES', 'PROCEDURE', 'FUNCTION', 'TRIGGER',
  'VIEW', 'INDEX', 'KEY', 'EXISTS', 'AS', 'INSERT', 'REPLACE', 'IGNORE', 'ON', 'WITH', 'RECURSIVE',
  'STRAIGHT_JOIN', 'PARTITION', 'CONSTRAINT', 'EVENT', 'PACKAGE', 'BODY', 'DATABASE', 'SCHEMA',
]);

export function lexerFunctions(tokens: readonly Token[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < tokens.length - 1; i++) {
    const t = tokens[i] as Token;
    if ((t.type !== 'word' && t.type !== 'ident') || tokens[i + 1]?.raw !== '(') continue;
    if (t.type === 'word' && NOT_FUNCTIONS.has(t.raw.toUpperCase())) continue;
    let name = identName(t).toLowerCase();
    let before = i - 1;
    const schema = tokens[i - 2];
    if (tokens[i - 1]?.raw === '.' && schema !== undefined && (schema.type === 'word' || schema.type === 'ident')) {
      name = `${identName(schema).toLowerCase()}.${name}`;
      before = i - 3;
    }
    const prev = tokens[before];
    if (prev !== undefined && prev.type === 'word' && NAME_POSITIONS.has(prev.raw.toUpperCase())) continue;
    if (before >= 0 && prev?.raw === '.') continue;
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

/** Fallback reads when the parser fails: names after FROM / JOIN (and commas in a FROM list). */
const QUERY_STARTS: ReadonlySet<string> = new Set(['(', 'SELECT', 'WITH', 'VALUES', 'TABLE']);

export function lexerReads(tokens: readonly Token[], exclude: readonly ObjectRef[]): ObjectRef[] {
  const out: ObjectRef[] = [];
  const cur = new Cursor(tokens);
  for (let k = 0; k < tokens.length; k++) {
    const w = upper(tokens[k]);
    if (w !== 'FROM' && w !== 'JOIN' && w !== 'STRAIGHT_JOIN') continue;
    cur.i = k + 1;
    for (;;) {
      // `FROM (a JOIN b ON ...)`: the parser rejects some of these, and `a` is read all the same
      // (a derived table's own FROM is found by this loop itself).
      while (cur.raw() === '(' && !QUERY_STARTS.has(cur.word(1))) cur.i++;
      const n = cur.name();
      if (n === undefined || isKeywordName(n)) break;
      if (!exclude.some((e) => e.name === n.name && e.schema === n.schema) && !out.some((e) => e.name === n.name && e.schema === n.schema)) out.push(n);
      // `t AS a, u b` → continue after a comma
      while (!cur.done && cur.raw() !== ',' && cur.tokens[cur.i]?.type !== 'semi' && (cur.tokens[cur.i]?.type === 'word' || cur.tokens[cur.i]?.type === 'ident') && !NAME_KEYWORDS.has(cur.word()) && !['WHERE', 'GROUP', 'ORDER', 'LIMIT', 'HAVING', 'UNION', 'FOR', 'LOCK', 'INTO'].includes(cur.word())) cur.i++;
      if (!cur.acceptRaw(',')) break;
    }
  }
  return out;
}
