import { createHash } from 'node:crypto';
import { StatementCache, type Lineage, type Statement, type StatementKind } from '@querygate/core';
import { fingerprintSync, loadModule, normalizeSync, parseSync, scanSync, type Node } from 'libpg-query';
import { bodyOf } from './ast';
import { classify } from './classify';
import { collect, stringConstant } from './collect';
import { DML_DANGER, Facts } from './Facts';
import { byteToChar } from './innerText';
import { LineageResolver } from './LineageResolver';
import { literalKey, scannerNormalize, type LiteralKey } from './literalKey';
import { parsePlpgsqlBody, parsePlpgsqlRoutine } from './plpgsql';

export interface PostgresAnalyzerOptions {
  /** Distinct statement shapes kept (LRU). */
  readonly cacheSize?: number;
}

export interface AnalysisCacheStats {
  readonly hits: number;
  readonly misses: number;
  readonly size: number;
}

/** A cached analysis: per statement, the key tokens its text spans and everything but the text. */
interface Template {
  readonly parts: ReadonlyArray<{ readonly first: number; readonly last: number; readonly proto: Omit<Statement, 'text'> }>;
}

interface Analysed {
  readonly statement: Statement;
  /** False when a literal value could change this analysis (a literal-blind cache must not serve it). */
  readonly cacheable: boolean;
}

interface MessageAnalysis {
  readonly statements: Statement[];
  /** Start/end of each statement's text in the message. */
  readonly spans: Array<readonly [number, number]>;
  readonly cacheable: boolean;
}

/** Messages longer than this are analysed without the cache (bulk INSERTs would only churn it). */
const MAX_CACHED_LENGTH = 4096;
/** DO inside PREPARE inside EXPLAIN...: deeper nesting is judged unknown. */
const MAX_DEPTH = 6;
/** Statements whose analysis (and normalized text) cannot depend on a literal's value. */
const CACHEABLE_COMMANDS: ReadonlySet<string> = new Set([
  'select', 'insert', 'update', 'delete', 'merge', 'begin', 'commit', 'rollback', 'savepoint', 'release_savepoint',
  'rollback_to_savepoint',
]);
const DATA_KINDS: ReadonlySet<StatementKind> = new Set(['select', 'insert', 'update', 'delete', 'merge']);
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const EMPTY_LINEAGE: Lineage = Object.freeze({ outputs: Object.freeze([]), complete: true });
const LOST_LINEAGE: Lineage = Object.freeze({ outputs: Object.freeze([]), complete: false });

/**
 * PostgreSQL statement analysis with the real parser (libpg-query, PostgreSQL 18's grammar compiled to
 * WASM). Splits a message exactly where the server does, classifies each statement, lists what it
 * reads, writes and calls, flags risks, resolves output column lineage and fingerprints it. Analyses
 * are cached by a literal-blind key so that a statement shape is parsed once.
 */
export class PostgresAnalyzer {
  private readonly cache: StatementCache<Template>;

  private constructor(options: PostgresAnalyzerOptions) {
    this.cache = new StatementCache<Template>(options.cacheSize ?? 10_000);
  }

  static async load(options: PostgresAnalyzerOptions = {}): Promise<PostgresAnalyzer> {
    await loadModule();
    return new PostgresAnalyzer(options);
  }

  get cacheStats(): AnalysisCacheStats {
    return { hits: this.cache.hits, misses: this.cache.misses, size: this.cache.size };
  }

  /** Splits `sql` the way the server does and analyses each statement. Never throws. */
  analyze(sql: string): readonly Statement[] {
    try {
      const key = sql.length <= MAX_CACHED_LENGTH ? literalKey(sql) : undefined;
      if (key !== undefined) {
        const template = this.cache.get(key.key);
        if (template !== undefined) return instantiate(template, sql, key);
      }
      const analysis = this.analyzeMessage(sql, 0);
      if (key !== undefined && analysis.cacheable) {
        const template = templateOf(analysis, key);
        if (template !== undefined) this.cache.set(key.key, template);
      }
      return analysis.statements;
    } catch {
      return [unknownStatement(sql)];
    }
  }

  private analyzeMessage(sql: string, depth: number): MessageAnalysis {
    if (/^\s*$/.test(sql)) return { statements: [], spans: [], cacheable: true };
    if (depth > MAX_DEPTH || LONE_SURROGATE.test(sql)) {
      return { statements: [unknownStatement(sql.trim())], spans: [], cacheable: false };
    }
    let stmts: ReadonlyArray<{ stmt?: Node; stmt_location?: number; stmt_len?: number }>;
    try {
      stmts = parseSync(sql).stmts ?? [];
    } catch {
      return this.unparsable(sql, depth);
    }
    const toChar = byteToChar(sql);
    const statements: Statement[] = [];
    const spans: Array<readonly [number, number]> = [];
    let cacheable = true;
    for (const raw of stmts) {
      const location = raw.stmt_location ?? 0;
      let start = toChar(location);
      let end = raw.stmt_len === undefined || raw.stmt_len === 0 ? sql.length : toChar(location + raw.stmt_len);
      while (start < end && /\s/.test(sql[start])) start++;
      while (end > start && /\s/.test(sql[end - 1])) end--;
      if (raw.stmt === undefined || start === end) continue;
      const analysed = this.analyzeStatement(sql.slice(start, end), raw.stmt, depth);
      statements.push(analysed.statement);
      spans.push([start, end]);
      cacheable &&= analysed.cacheable;
    }
    return { statements, spans, cacheable };
  }

  /**
   * The server rejects the whole message, so nothing in it runs; still, report each piece (split at
   * the scanner's semicolons) so that policy and audit see what was attempted. Pieces that parse on
   * their own are analysed, the rest are `unknown`.
   */
  private unparsable(sql: string, depth: number): MessageAnalysis {
    const pieces: string[] = [];
    try {
      const toChar = byteToChar(sql);
      let start = 0;
      let meaningful = false;
      for (const token of scanSync(sql).tokens) {
        if (token.text === ';') {
          if (meaningful) pieces.push(sql.slice(start, toChar(token.start)).trim());
          start = toChar(token.end);
          meaningful = false;
        } else if (token.tokenName !== 'SQL_COMMENT' && token.tokenName !== 'C_COMMENT') {
          meaningful = true;
        }
      }
      if (meaningful) pieces.push(sql.slice(start).trim());
    } catch {
      pieces.length = 0;
    }
    if (pieces.length <= 1) return { statements: [unknownStatement(sql.trim())], spans: [], cacheable: false };
    const statements = pieces.flatMap((piece) => {
      try {
        const stmts = parseSync(piece).stmts ?? [];
        if (stmts.length === 1 && stmts[0].stmt !== undefined) return [this.analyzeStatement(piece, stmts[0].stmt, depth).statement];
      } catch {
        // fall through: unknown
      }
      return [unknownStatement(piece)];
    });
    return { statements, spans: [], cacheable: false };
  }

  private analyzeStatement(text: string, node: Node, depth: number): Analysed {
    const c = classify(node, text);
    const facts = new Facts();
    collect(node, facts, { targets: new Set(c.targets), skip: new Set(c.skip) });
    for (const rv of c.targets) facts.write(rv.schemaname ? { schema: rv.schemaname, name: rv.relname ?? '' } : { name: rv.relname ?? '' });
    for (const ref of c.writes) if (ref.name !== '') facts.write(ref);
    for (const risk of c.risks) facts.risks.add(risk);

    let kind = c.kind;
    let command = c.command;
    if (DATA_KINDS.has(kind)) {
      // A data-modifying CTE makes the statement as dangerous as the DML it carries.
      let rank = DML_DANGER.indexOf(kind as (typeof DML_DANGER)[number]);
      for (const dml of facts.dml) {
        const r = DML_DANGER.indexOf(dml);
        if (r > rank) { rank = r; kind = dml; command = dml; }
      }
    }

    const nested: Statement[] = [];
    if (c.embedded !== undefined) {
      const inner = c.embedded.text === undefined
        ? [unknownStatement(text)]
        : this.analyzeMessage(c.embedded.text, depth + 1).statements;
      if (c.embedded.mode === 'nested') nested.push(...inner);
      else for (const s of inner) { for (const r of [...s.reads, ...s.writes]) facts.read(r); }
    }
    if (c.doBlock !== undefined) this.doBlock(c.doBlock.language, c.doBlock.body, facts, nested, depth);
    if (c.routineBody !== undefined) this.routineBody(c.routineBody.language, c.routineBody.body, facts, depth);
    for (const sqlText of facts.sqlTexts) {
      const inner = this.analyzeMessage(sqlText, depth + 1).statements;
      if (inner.length > 0 && inner.every((s) => s.kind !== 'unknown')) nested.push(...inner);
    }
    for (const s of nested) absorb(facts, s);

    const lineage = c.rows === 'lineage' ? LineageResolver.of(node) : c.rows === 'opaque' ? LOST_LINEAGE : EMPTY_LINEAGE;
    const assigned = kind === 'update' || kind === 'insert' ? LineageResolver.assignments(node) : undefined;
    const normalized = normalizedText(text);
    const statement: Statement = {
      text,
      kind,
      command,
      fingerprint: fingerprintOf(text),
      normalized,
      reads: [...facts.reads.values()],
      writes: [...facts.writes.values()],
      functions: [...facts.functions],
      risks: facts.risks,
      lineage,
      ...(assigned !== undefined ? { assigned } : {}),
      ...(nested.length > 0 ? { nested } : {}),
    };
    const cacheable = !facts.literalSensitive && nested.length === 0 && CACHEABLE_COMMANDS.has(command)
      && everyLiteralNormalized(text, normalized);
    return { statement, cacheable };
  }

  /**
   * CREATE FUNCTION / PROCEDURE runs nothing now, but whoever calls the routine runs its body: the
   * relations it reads count as the statement's reads (not nested: its statements are not run
   * here). A body that does not parse, or runs SQL built at run time, is flagged.
   */
  private routineBody(language: string, body: string, facts: Facts, depth: number): void {
    let statements: readonly Statement[];
    if (language === 'sql') {
      statements = this.analyzeMessage(body, depth + 1).statements;
    } else if (language === 'plpgsql') {
      const parsed = parsePlpgsqlRoutine(body);
      if (parsed === undefined) { facts.risks.add('unparsed'); return; }
      statements = [
        ...parsed.statements.flatMap((sql) => this.analyzeMessage(sql, depth + 1).statements),
        ...parsed.expressions.flatMap((expr) => this.analyzeMessage(`SELECT ${expr}`, depth + 1).statements),
      ];
    } else {
      return;
    }
    const visit = (s: Statement): void => {
      for (const r of s.reads) facts.read(r);
      s.nested?.forEach(visit);
    };
    statements.forEach(visit);
  }

  /** A DO block runs its body now: its static SQL is nested, its expressions count as the block's own. */
  private doBlock(language: string, body: string, facts: Facts, nested: Statement[], depth: number): void {
    const parsed = language === 'plpgsql' ? parsePlpgsqlBody(body) : undefined;
    if (parsed === undefined) {
      facts.risks.add('unparsed');
      return;
    }
    for (const sql of parsed.statements) nested.push(...this.analyzeMessage(sql, depth + 1).statements);
    for (const expr of parsed.expressions) {
      for (const s of this.analyzeMessage(`SELECT ${expr}`, depth + 1).statements) {
        absorb(facts, s);
        if (s.kind === 'unknown') facts.risks.add('unparsed');
      }
    }
    for (const expr of parsed.dynamic) {
      // `EXECUTE 'literal SQL'` is static after all: judge it like the rest of the body.
      const literal = constantString(expr);
      if (literal !== undefined) nested.push(...this.analyzeMessage(literal, depth + 1).statements);
    }
  }
}

function absorb(facts: Facts, s: Statement): void {
  for (const r of s.reads) facts.read(r);
  for (const w of s.writes) facts.write(w);
  for (const f of s.functions) facts.functions.add(f);
  for (const risk of s.risks) facts.risks.add(risk);
}

function constantString(expr: string): string | undefined {
  try {
    const stmt = parseSync(`SELECT ${expr}`).stmts?.[0]?.stmt;
    const select = bodyOf<{ targetList?: Node[] }>(stmt, 'SelectStmt');
    const target = bodyOf<{ val?: Node }>(select?.targetList?.[0], 'ResTarget');
    return select?.targetList?.length === 1 ? stringConstant(target?.val) : undefined;
  } catch {
    return undefined;
  }
}

function instantiate(template: Template, sql: string, key: LiteralKey): Statement[] {
  // The template is frozen and shared; each result gets its own risk set (a Set cannot be frozen).
  return template.parts.map((p) => ({
    text: sql.slice(key.starts[p.first], key.ends[p.last]), ...p.proto, risks: new Set(p.proto.risks),
  }));
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !(value instanceof Set) && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function templateOf(analysis: MessageAnalysis, key: LiteralKey): Template | undefined {
  const parts: Array<Template['parts'][number]> = [];
  for (let i = 0; i < analysis.statements.length; i++) {
    const [start, end] = analysis.spans[i];
    const first = key.starts.indexOf(start);
    const last = key.ends.indexOf(end, first);
    if (first < 0 || last < 0) return undefined;
    const { text: _text, ...proto } = analysis.statements[i];
    parts.push({ first, last, proto: deepFreeze(proto) });
  }
  return { parts };
}

/** libpg-query's normalize replaces every literal in data statements; check, since the cache relies on it. */
function everyLiteralNormalized(text: string, normalized: string): boolean {
  let literals = 0;
  if (literalKey(text, { onLiteral: () => { literals++; } }) === undefined) return false;
  const params = (s: string): number => (s.match(/\$\d+/g) ?? []).length;
  return params(normalized) - params(text) === literals;
}

function fingerprintOf(text: string): string {
  try {
    return fingerprintSync(text);
  } catch {
    return hashFingerprint(text);
  }
}

function normalizedText(text: string): string {
  try {
    return normalizeSync(text);
  } catch {
    return scannerNormalize(text) ?? text;
  }
}

function hashFingerprint(text: string): string {
  return `x${createHash('sha256').update(text).digest('hex').slice(0, 15)}`;
}

/** What the parser could not read: fail closed. */
export function unknownStatement(text: string): Statement {
  return {
    text,
    kind: 'unknown',
    command: 'unknown',
    fingerprint: hashFingerprint(scannerNormalize(text) ?? text),
    normalized: scannerNormalize(text) ?? text,
    reads: [],
    writes: [],
    functions: [],
    risks: new Set(['unparsed']),
    lineage: LOST_LINEAGE,
  };
}
