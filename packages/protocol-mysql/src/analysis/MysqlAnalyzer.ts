import { createHash } from 'node:crypto';
import { StatementCache, type ColumnAssignment, type Lineage, type ObjectRef, type RiskFlag, type Statement } from '@querygate/core';
import { Parser as MysqlParser } from 'node-sql-parser/build/mysql';
import { Parser as MariadbParser } from 'node-sql-parser/build/mariadb';
import { astFacts, isNode, type AstFacts } from './astFacts';
import { classify, lexerFunctions, lexerReads, type Classification, type TokenRange } from './classifier';
import { codeText, tokenize, type LexResult, type Token } from './lexer';
import { normalize } from './normalizer';
import { splitStatements, type Segment } from './splitter';

export interface MysqlAnalyzerOptions {
  /** Entries in the shape cache (statements with distinct normalised text). Default 10 000. */
  readonly cacheSize?: number;
  /** Grammar tried first; the other one is tried when it fails. Default 'MySQL'. */
  readonly dialect?: 'MySQL' | 'MariaDB';
}

/** Per-call server state that changes how the text is read. */
export interface AnalyzeOptions {
  /**
   * The session runs with sql_mode NO_BACKSLASH_ESCAPES (SERVER_STATUS_NO_BACKSLASH_ESCAPES in the
   * OK packet's status flags): backslash is then an ordinary character inside strings. Pass it
   * whenever the mode is known (true or false): the text is then read exactly that way. Left out,
   * the mode is unknown and statements only the other reading would start are nested as well.
   */
  readonly noBackslashEscapes?: boolean;
}

type Analysis = Omit<Statement, 'text'>;

interface CacheEntry {
  readonly analysis: Analysis;
}

/** How deep PREPARE-in-PREPARE / body-in-body nesting is followed before failing closed. */
const MAX_DEPTH = 4;

const EMPTY_LINEAGE: Lineage = Object.freeze({ outputs: Object.freeze([]), complete: true });
const UNKNOWN_LINEAGE: Lineage = Object.freeze({ outputs: Object.freeze([]), complete: false });

interface SqlParser {
  astify(sql: string, opt?: { database?: string }): unknown;
}

/**
 * MySQL/MariaDB statement analysis: a server-faithful lexer splits and normalises the text, a
 * keyword classifier names every statement, and node-sql-parser reads objects, functions and
 * lineage from the statements it understands. Results are cached by normalised text, so the
 * parser runs once per statement shape.
 */
export class MysqlAnalyzer {
  private readonly cache: StatementCache<CacheEntry>;
  private readonly parsers: readonly { readonly parser: SqlParser; readonly database: string }[];

  private constructor(options: MysqlAnalyzerOptions) {
    this.cache = new StatementCache<CacheEntry>(options.cacheSize ?? 10_000);
    const mysql = { parser: new MysqlParser() as SqlParser, database: 'MySQL' };
    const mariadb = { parser: new MariadbParser() as SqlParser, database: 'MariaDB' };
    this.parsers = options.dialect === 'MariaDB' ? [mariadb, mysql] : [mysql, mariadb];
  }

  static async load(options: MysqlAnalyzerOptions = {}): Promise<MysqlAnalyzer> {
    return new MysqlAnalyzer(options);
  }

  /** Cache counters, for metrics and tests. */
  get cacheStats(): { readonly hits: number; readonly misses: number; readonly size: number } {
    return { hits: this.cache.hits, misses: this.cache.misses, size: this.cache.size };
  }

  /** Splits `sql` the way the server does and analyses each statement. Never throws. */
  analyze(sql: string, options: AnalyzeOptions = {}): readonly Statement[] {
    try {
      return this.analyzeText(sql, options, 0);
    } catch {
      return [failClosed(sql)];
    }
  }

  private analyzeText(sql: string, options: AnalyzeOptions, depth: number): Statement[] {
    const lex = tokenize(sql, options);
    const segments = splitStatements(sql, lex.tokens);
    const out: Statement[] = [];
    for (const segment of segments) {
      out.push(this.analyzeSegment(sql, lex, segment, options, depth));
    }
    if (depth === 0) this.judgeOtherEscapeMode(sql, lex, segments, out, options);
    return out;
  }

  /**
   * A backslash in a string reads differently under NO_BACKSLASH_ESCAPES, and a caller that does
   * not know the session's mode cannot tell which reading the server will use. The primary reading
   * alone decides each statement's kind, risks and parse status: the other one only adds, nested
   * under the statement it overlaps, the statements it would start at an offset where the primary
   * reading starts none and that the classifier recognises (`'a\'; DROP TABLE t; -- '`). What it
   * re-reads of a primary statement, and the fragments it leaves unclassifiable (the rest of an
   * ordinary `'it\'s; fine'`), say nothing about what the server runs and would only refuse benign
   * text. A known mode is exact unless an earlier statement of the same message may switch it.
   */
  private judgeOtherEscapeMode(sql: string, lex: LexResult, segments: readonly Segment[], out: Statement[], options: AnalyzeOptions): void {
    if (options.noBackslashEscapes !== undefined && !out.slice(0, -1).some(mayChangeSqlMode)) return;
    if (!lex.tokens.some((t) => t.type === 'string' && t.raw.includes('\\'))) return;
    const other: AnalyzeOptions = { noBackslashEscapes: options.noBackslashEscapes !== true };
    const otherLex = tokenize(sql, other);
    for (const alt of splitStatements(sql, otherLex.tokens)) {
      if (segments.some((s) => s.start === alt.start)) continue;
      let at = segments.findIndex((s) => s.start <= alt.start && alt.start < s.end);
      if (at < 0) at = out.length - 1;
      const owner = out[at];
      if (owner === undefined) continue;
      const statement = this.analyzeSegment(sql, otherLex, alt, other, 1);
      if (statement.kind === 'unknown') continue;
      out[at] = { ...owner, nested: [...(owner.nested ?? []), statement] };
    }
  }

  private analyzeSegment(sql: string, lex: LexResult, segment: Segment, options: AnalyzeOptions, depth: number): Statement {
    const text = sql.slice(segment.start, segment.end);
    const normalized = normalize(segment.tokens, segment.compound);
    const key = options.noBackslashEscapes === true ? `\u0001${normalized}` : normalized;
    const hit = this.cache.get(key);
    if (hit !== undefined) return { text, ...hit.analysis };
    const { analysis, cacheable } = this.compute(sql, lex, segment, normalized, options, depth);
    // A statement whose nested statements are slices of its own text would hand later callers
    // stale literals; those (EXPLAIN, stored programs) are rare and re-analysed each time.
    if (cacheable) this.cache.set(key, { analysis });
    return { text, ...analysis };
  }

  private compute(sql: string, lex: LexResult, segment: Segment, normalized: string, options: AnalyzeOptions, depth: number): { analysis: Analysis; cacheable: boolean } {
    const tokens = segment.tokens;
    const c = classify(tokens);
    const fingerprint = fingerprintOf(normalized);
    if (c.kind === 'unknown') {
      return { analysis: freeze({ kind: 'unknown', command: 'unknown', fingerprint, normalized, reads: [], writes: [], functions: lexerFunctions(tokens), risks: new Set<RiskFlag>(['unparsed']), lineage: UNKNOWN_LINEAGE }), cacheable: true };
    }
    const risks = new Set<RiskFlag>(c.risks);
    const reads: ObjectRef[] = [...c.reads];
    const writes: ObjectRef[] = [...c.writes];
    const functions = lexerFunctions(tokens);
    if (c.command === 'call') addFunction(functions, callTarget(tokens));
    let lineage: Lineage = c.lineage ?? EMPTY_LINEAGE;
    let assigned: ColumnAssignment[] | undefined;

    if (c.query !== undefined) {
      const facts = this.parse(sql, lex, tokens, c.query, (c.query.role === 'statement' && isQueryCommand(c)) || c.command === 'set');
      if (facts !== undefined) {
        for (const f of facts.functions) addFunction(functions, f);
        if (c.query.role === 'statement') {
          reads.length = 0;
          reads.push(...facts.reads);
          if (facts.writes.length > 0) { writes.length = 0; writes.push(...facts.writes); }
          if ((c.kind === 'update' || c.kind === 'delete') && !facts.hasWhere) risks.add('noWhere');
          if (facts.lineage !== undefined) lineage = facts.lineage;
          if (facts.assigned !== undefined) assigned = facts.assigned;
        } else {
          for (const r of facts.reads) addRef(reads, r);
          // What a SET stores in variables (masking refuses storing sensitive values).
          if (c.command === 'set' && facts.lineage !== undefined) lineage = facts.lineage;
        }
      } else {
        // The keywords told us what the statement is, but not everything it touches.
        risks.add('unparsed');
        const slice = tokens.slice(c.query.from, c.query.to);
        for (const r of lexerReads(slice, writes)) addRef(reads, r);
        if ((c.kind === 'update' || c.kind === 'delete') && c.hasWhere !== true) risks.add('noWhere');
        if (c.lineage === undefined) lineage = isQueryCommand(c) ? UNKNOWN_LINEAGE : EMPTY_LINEAGE;
      }
    }
    if (functions.includes('load_file')) risks.add('fileAccess');
    // A stored program's body runs whenever it is called (or fired): what it reads counts as read.
    if (ROUTINE_DEFINITIONS.has(c.command)) for (const r of lexerReads(tokens, writes)) addRef(reads, r);

    let cacheable = true;
    const nested: Statement[] = [];
    for (const n of c.nested) {
      if (depth + 1 > MAX_DEPTH) { risks.add('unparsed'); break; }
      if ('text' in n) {
        nested.push(...this.analyzeText(n.text, options, depth + 1));
      } else {
        cacheable = false;
        nested.push(this.analyzeSegment(sql, lex, subSegment(tokens, n.range), options, depth + 1));
      }
    }
    if (c.mergeNested === true) {
      for (const s of nested) {
        for (const r of s.reads) addRef(reads, r);
        for (const w of s.writes) addRef(writes, w);
        for (const f of s.functions) addFunction(functions, f);
        for (const r of s.risks) risks.add(r);
        if (s.lineage.outputs.length > 0 || !s.lineage.complete) lineage = s.lineage;
      }
    }
    if (c.command === 'prepare' && c.nested.length === 0) lineage = EMPTY_LINEAGE;

    const analysis: Analysis = {
      kind: c.kind, command: c.command, fingerprint, normalized, reads, writes, functions, risks, lineage,
      ...(assigned !== undefined ? { assigned } : {}),
      ...(nested.length > 0 ? { nested } : {}),
    };
    return { analysis: freeze(analysis), cacheable };
  }

  /** Runs node-sql-parser on a token range; undefined when neither grammar accepts it. */
  private parse(sql: string, lex: LexResult, tokens: readonly Token[], range: TokenRange, wantLineage: boolean): AstFacts | undefined {
    const first = tokens[range.from];
    const last = tokens[range.to - 1];
    if (first === undefined || last === undefined) return undefined;
    const code = codeText(sql, lex.skips, first.start, last.end);
    for (const { parser, database } of this.parsers) {
      let ast: unknown;
      try {
        ast = parser.astify(code, { database });
      } catch {
        continue;
      }
      const root = Array.isArray(ast) ? (ast.length === 1 ? ast[0] : undefined) : ast;
      if (!isNode(root)) continue;
      try {
        return astFacts(root, wantLineage);
      } catch {
        return undefined;
      }
    }
    return undefined;
  }
}

/**
 * Commands that may switch the session's sql_mode for the statements after them in the same
 * message (the server lexes each statement of a multi-statement COM_QUERY in the mode current when
 * it reaches it). CALL is included although routines restore the caller's mode: failing closed.
 */
const SQL_MODE_SWITCHERS: ReadonlySet<string> = new Set(['set', 'set_global', 'execute', 'execute_immediate', 'compound_statement', 'call']);

function mayChangeSqlMode(s: Statement): boolean {
  return SQL_MODE_SWITCHERS.has(s.command);
}

const ROUTINE_DEFINITIONS: ReadonlySet<string> = new Set(['create_function', 'create_procedure', 'create_trigger', 'create_event', 'alter_event']);

function isQueryCommand(c: Classification): boolean {
  return c.kind === 'select' || c.command === 'select_into_outfile' || c.command === 'select_into_dumpfile';
}

function subSegment(tokens: readonly Token[], range: TokenRange): Segment {
  const slice = tokens.slice(range.from, range.to);
  const first = slice[0];
  const last = slice[slice.length - 1];
  return { tokens: slice, start: first?.start ?? 0, end: last?.end ?? 0, compound: false };
}

function callTarget(tokens: readonly Token[]): string | undefined {
  const t1 = tokens[1];
  if (t1 === undefined || (t1.type !== 'word' && t1.type !== 'ident')) return undefined;
  const name = (t: Token): string => (t.type === 'ident' ? t.raw.slice(1, -1).replace(/``/g, '`') : t.raw).toLowerCase();
  const t3 = tokens[3];
  if (tokens[2]?.raw === '.' && t3 !== undefined) return `${name(t1)}.${name(t3)}`;
  return name(t1);
}

function addFunction(out: string[], fn: string | undefined): void {
  if (fn !== undefined && !out.includes(fn)) out.push(fn);
}

function addRef(out: ObjectRef[], r: ObjectRef): void {
  if (!out.some((o) => o.name === r.name && o.schema === r.schema)) out.push(r);
}

function fingerprintOf(normalized: string): string {
  return createHash('sha1').update(normalized).digest('hex').slice(0, 16);
}

/** Cached analyses are shared between callers: make accidental mutation fail loudly. */
function freeze(a: Analysis): Analysis {
  Object.freeze(a.reads);
  Object.freeze(a.writes);
  Object.freeze(a.functions);
  return Object.freeze(a);
}

/** The analyser itself failed: one statement, as risky as it gets. */
function failClosed(sql: string): Statement {
  return {
    // normalized is what audit records: never the raw text, which may carry a password.
    text: sql, kind: 'unknown', command: 'unknown', fingerprint: fingerprintOf(sql), normalized: '',
    reads: [], writes: [], functions: [], risks: new Set<RiskFlag>(['unparsed']), lineage: UNKNOWN_LINEAGE,
  };
}
