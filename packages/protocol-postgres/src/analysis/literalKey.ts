// A small scanner that turns a message into a cache key with literal VALUES removed, so that
// `... WHERE aid = 12345` and `... WHERE aid = 777` share one analysis. It is deliberately
// conservative: it follows PostgreSQL's lexer (standard_conforming_strings on) for the common
// constructs and gives up (returns undefined, so the caller parses) on anything it does not fully
// model: dollar quotes, U&'' strings, `$` inside identifiers, odd numerals, unterminated tokens,
// control characters. The key keeps every non-literal token verbatim, the presence of whitespace
// (and whether it held a newline, which decides string continuation) and the kind of each literal, so
// two messages with the same key lex to the same token structure.

/** Stands for a numeric literal in a key; a source character outside strings never equals it. */
const NUMBER = '\u0001';
/** Stands for a string literal's contents; its prefix letter (E, B, X, N) stays in the key. */
const STRING = '\u0002';

export interface LiteralKey {
  readonly key: string;
  /** Start and end (exclusive) of every token, comments included, in UTF-16 units. */
  readonly starts: readonly number[];
  readonly ends: readonly number[];
}

export interface LiteralKeyOptions {
  /** Called with the span of each literal the key replaces (scannerNormalize uses it). */
  readonly onLiteral?: (start: number, end: number) => void;
}

const enum Ch {
  Tab = 9, Lf = 10, Vt = 11, Ff = 12, Cr = 13, Space = 32,
  Quote = 39, DoubleQuote = 34, Dollar = 36, Dash = 45, Dot = 46, Slash = 47, Star = 42,
  Backslash = 92, Amp = 38, Plus = 43, Zero = 48, Nine = 57, Underscore = 95,
}

function isSpace(c: number): boolean {
  return c === Ch.Space || c === Ch.Tab || c === Ch.Lf || c === Ch.Cr || c === Ch.Ff || c === Ch.Vt;
}
function isDigit(c: number): boolean { return c >= Ch.Zero && c <= Ch.Nine; }
function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === Ch.Underscore || c >= 128;
}
function isIdentCont(c: number): boolean { return isIdentStart(c) || isDigit(c) || c === Ch.Dollar; }

/** Returns the key, or undefined when the scanner is not sure it lexes `sql` as PostgreSQL would. */
export function literalKey(sql: string, options?: LiteralKeyOptions): LiteralKey | undefined {
  const n = sql.length;
  const starts: number[] = [];
  const ends: number[] = [];
  let key = '';
  let i = 0;
  const onLiteral = options?.onLiteral;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (isSpace(c)) {
      let newline = false;
      while (i < n) {
        const d = sql.charCodeAt(i);
        if (!isSpace(d)) break;
        if (d === Ch.Lf || d === Ch.Cr) newline = true;
        i++;
      }
      key += newline ? '\n' : ' ';
      continue;
    }
    const start = i;
    if (c === Ch.Dash && sql.charCodeAt(i + 1) === Ch.Dash) {
      while (i < n && sql.charCodeAt(i) !== Ch.Lf && sql.charCodeAt(i) !== Ch.Cr) i++;
      key += sql.slice(start, i);
    } else if (c === Ch.Slash && sql.charCodeAt(i + 1) === Ch.Star) {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        const d = sql.charCodeAt(i);
        if (d === Ch.Slash && sql.charCodeAt(i + 1) === Ch.Star) { depth++; i += 2; }
        else if (d === Ch.Star && sql.charCodeAt(i + 1) === Ch.Slash) { depth--; i += 2; }
        else i++;
      }
      if (depth > 0) return undefined;
      key += sql.slice(start, i);
    } else if (c === Ch.Quote) {
      const end = scanString(sql, i + 1, false);
      if (end < 0) return undefined;
      i = end;
      key += STRING;
      onLiteral?.(start, i);
    } else if (c === Ch.DoubleQuote) {
      i++;
      for (;;) {
        if (i >= n) return undefined;
        if (sql.charCodeAt(i) === Ch.DoubleQuote) {
          if (sql.charCodeAt(i + 1) === Ch.DoubleQuote) { i += 2; continue; }
          i++;
          break;
        }
        i++;
      }
      key += sql.slice(start, i);
    } else if (isIdentStart(c)) {
      i++;
      while (i < n && isIdentCont(sql.charCodeAt(i))) i++;
      const word = i - start;
      const next = sql.charCodeAt(i);
      if (word === 1 && next === Ch.Quote && 'eEbBxXnN'.includes(sql[start])) {
        const end = scanString(sql, i + 1, c === 69 || c === 101);
        if (end < 0) return undefined;
        key += sql[start] + STRING;
        i = end;
        onLiteral?.(start, i);
      } else if (word === 1 && next === Ch.Amp && (c === 85 || c === 117)) {
        return undefined; // U&'...' / U&"..." with UESCAPE: not modelled
      } else {
        const text = sql.slice(start, i);
        if (text.includes('$')) return undefined;
        key += text;
      }
    } else if (isDigit(c) || (c === Ch.Dot && isDigit(sql.charCodeAt(i + 1)))) {
      const end = scanNumber(sql, i);
      if (end < 0) return undefined;
      i = end;
      key += NUMBER;
      onLiteral?.(start, i);
    } else if (c === Ch.Dollar) {
      i++;
      if (!isDigit(sql.charCodeAt(i))) return undefined; // a dollar quote
      while (i < n && isDigit(sql.charCodeAt(i))) i++;
      if (i < n && (isIdentCont(sql.charCodeAt(i)) || sql.charCodeAt(i) === Ch.Dot)) return undefined;
      key += sql.slice(start, i);
    } else if (c < Ch.Space || c === 127) {
      return undefined;
    } else {
      i++;
      key += sql[start];
    }
    starts.push(start);
    ends.push(i);
  }
  return { key, starts, ends };
}

/** From just after the opening quote; returns the index after the closing quote, or -1. */
function scanString(sql: string, from: number, backslashEscapes: boolean): number {
  const n = sql.length;
  let i = from;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (c === Ch.Backslash && backslashEscapes) { i += 2; continue; }
    if (c === Ch.Quote) {
      if (sql.charCodeAt(i + 1) === Ch.Quote) { i += 2; continue; }
      return i + 1;
    }
    i++;
  }
  return -1;
}

/** digits [. digits] [e[+-]digits], or . digits [...]; anything glued after it is not modelled. */
function scanNumber(sql: string, from: number): number {
  const n = sql.length;
  let i = from;
  while (i < n && isDigit(sql.charCodeAt(i))) i++;
  if (sql.charCodeAt(i) === Ch.Dot) {
    if (sql.charCodeAt(i + 1) === Ch.Dot) return -1;
    i++;
    while (i < n && isDigit(sql.charCodeAt(i))) i++;
  }
  const e = sql.charCodeAt(i);
  if (e === 69 || e === 101) {
    let j = i + 1;
    const sign = sql.charCodeAt(j);
    if (sign === Ch.Plus || sign === Ch.Dash) j++;
    if (!isDigit(sql.charCodeAt(j))) return -1;
    while (j < n && isDigit(sql.charCodeAt(j))) j++;
    i = j;
  }
  if (i < n) {
    const after = sql.charCodeAt(i);
    if (isIdentCont(after) || after === Ch.Dot) return -1;
  }
  return i;
}

/**
 * A best-effort normalisation for text the parser rejected (audit must not record its literals):
 * literals become `$1`, `$2`...; undefined when the scanner is unsure.
 */
export function scannerNormalize(sql: string): string | undefined {
  const spans: Array<[number, number]> = [];
  if (literalKey(sql, { onLiteral: (s, e) => spans.push([s, e]) }) === undefined) return undefined;
  let out = '';
  let last = 0;
  spans.forEach(([s, e], k) => { out += `${sql.slice(last, s)}$${k + 1}`; last = e; });
  return out + sql.slice(last);
}
