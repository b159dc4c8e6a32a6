import type { Token } from './lexer';

/** One statement of a multi-statement text: its tokens (no `;`) and its trimmed character range. */
export interface Segment {
  readonly tokens: readonly Token[];
  readonly start: number;
  readonly end: number;
  /** A stored-program definition or compound statement: `;` inside BEGIN ... END does not split it. */
  readonly compound: boolean;
}

export function upper(token: Token | undefined): string {
  return token !== undefined && token.type === 'word' ? token.raw.toUpperCase() : '';
}

const ROUTINE_OBJECTS = new Set(['PROCEDURE', 'FUNCTION', 'TRIGGER', 'EVENT', 'PACKAGE']);
const NOT_ROUTINE_OBJECTS = new Set([
  'TABLE', 'VIEW', 'INDEX', 'DATABASE', 'SCHEMA', 'USER', 'ROLE', 'SERVER', 'SEQUENCE', 'TABLESPACE',
  'LOGFILE', 'UNIQUE', 'FULLTEXT', 'SPATIAL', 'TEMPORARY', 'RESOURCE',
]);
const COMPOUND_STARTS = new Set(['IF', 'CASE', 'LOOP', 'WHILE', 'REPEAT']);

/**
 * MariaDB runs compound statements outside stored programs (BEGIN NOT ATOMIC, IF, LOOP...), and a
 * CREATE PROCEDURE/FUNCTION/TRIGGER/EVENT body may hold `;`-terminated statements: the server parses
 * those as ONE statement, so the splitter must too.
 */
function startsCompound(tokens: readonly Token[], from: number): boolean {
  const first = upper(tokens[from]);
  if (first === 'CREATE' || first === 'ALTER') {
    for (let i = from + 1; i < tokens.length && i < from + 16; i++) {
      const w = upper(tokens[i]);
      if (ROUTINE_OBJECTS.has(w)) return first === 'CREATE' || w === 'EVENT';
      if (NOT_ROUTINE_OBJECTS.has(w)) return false;
    }
    return false;
  }
  if (first === 'BEGIN') return upper(tokens[from + 1]) === 'NOT';
  if (COMPOUND_STARTS.has(first)) return true;
  // `label: BEGIN NOT ATOMIC ...`
  const t0 = tokens[from];
  if (t0 !== undefined && (t0.type === 'word' || t0.type === 'ident') && tokens[from + 1]?.raw === ':') {
    const w = upper(tokens[from + 2]);
    return w === 'BEGIN' || COMPOUND_STARTS.has(w);
  }
  return false;
}

/** Words after which IF is the IF() function rather than an IF statement. */
const EXPRESSION_CONTEXT = new Set([
  'SELECT', 'WHERE', 'AND', 'OR', 'NOT', 'XOR', 'RETURN', 'WHEN', 'BY', 'ON', 'HAVING', 'DISTINCT', 'IN',
  'IS', 'LIKE', 'BETWEEN', 'CASE', 'VALUES', 'VALUE', 'AS', 'DIV', 'MOD', 'INTERVAL', 'ALL', 'ANY', 'SOME',
  'UNTIL', 'SET', 'DEFAULT', 'ELSEIF',
]);

/** Block depth change of token i in a compound statement; END also swallows `END IF` etc. */
function blockDelta(tokens: readonly Token[], i: number): { delta: number; skip: number } {
  const w = upper(tokens[i]);
  switch (w) {
    case 'BEGIN': case 'LOOP': case 'WHILE': case 'CASE':
      return { delta: 1, skip: 0 };
    case 'REPEAT':
      return { delta: tokens[i + 1]?.raw === '(' ? 0 : 1, skip: 0 };
    case 'IF': {
      const next = upper(tokens[i + 1]);
      if (next === 'EXISTS' || (next === 'NOT' && upper(tokens[i + 2]) === 'EXISTS')) return { delta: 0, skip: 0 };
      const prev = tokens[i - 1];
      if (prev === undefined) return { delta: 1, skip: 0 };
      if (prev.type === 'op' && prev.raw !== ')' && prev.raw !== ':') return { delta: 0, skip: 0 };
      if (EXPRESSION_CONTEXT.has(upper(prev))) return { delta: 0, skip: 0 };
      return { delta: 1, skip: 0 };
    }
    case 'END': {
      const next = upper(tokens[i + 1]);
      const closesNamed = next === 'IF' || next === 'LOOP' || next === 'WHILE' || next === 'REPEAT' || next === 'CASE';
      return { delta: -1, skip: closesNamed ? 1 : 0 };
    }
    default:
      return { delta: 0, skip: 0 };
  }
}

/** Splits a token stream into statements the way the server does. Empty statements are dropped. */
export function splitStatements(sql: string, tokens: readonly Token[]): Segment[] {
  const segments: Segment[] = [];
  let segStart = 0;     // character offset where the current statement's text begins
  let first = 0;        // token index of the current statement's first token
  let depth = 0;
  let compound = false;
  const emit = (endToken: number, endChar: number): void => {
    if (endToken > first) {
      let s = segStart;
      let e = endChar;
      while (s < e && isBlank(sql.charCodeAt(s))) s++;
      while (e > s && isBlank(sql.charCodeAt(e - 1))) e--;
      segments.push({ tokens: tokens.slice(first, endToken), start: s, end: e, compound });
    }
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    if (i === first) { compound = startsCompound(tokens, i); depth = 0; }
    if (t.type === 'semi') {
      if (compound && depth > 0) continue;
      emit(i, t.start);
      segStart = t.end;
      first = i + 1;
      continue;
    }
    if (compound && t.type === 'word') {
      const { delta, skip } = blockDelta(tokens, i);
      depth = Math.max(0, depth + delta);
      i += skip;
    }
  }
  emit(tokens.length, sql.length);
  return segments;
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12;
}
