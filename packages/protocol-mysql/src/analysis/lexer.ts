/**
 * A MySQL/MariaDB lexer that sees statement text the way the server does: quoted strings with
 * backslash escapes, backtick identifiers, `#`, `-- ` and `/* *\/` comments, and executable comments
 * (`/*! *\/`, `/*!50001 *\/`, `/*M! *\/`, `/*M!100100 *\/`) whose content is CODE. Comments and the
 * executable-comment markers become "skips"; everything else becomes a token.
 */

export type TokenType =
  | 'word'      // unquoted identifier or keyword
  | 'ident'     // `backtick quoted` identifier
  | 'string'    // '...' or "..." (also N'...')
  | 'number'    // 12, 1.5e3, .5
  | 'hex'       // X'0A', 0x0A, B'01', 0b01
  | 'variable'  // @v, @'v', @@global.x
  | 'param'     // ?
  | 'op'        // punctuation and operators
  | 'semi';     // ;

export interface Token {
  readonly type: TokenType;
  readonly start: number;
  readonly end: number;
  /** Source text of the token. */
  readonly raw: string;
  /** True when whitespace, a comment or a marker separates this token from the previous one. */
  readonly gap: boolean;
}

export interface LexOptions {
  /** The server's NO_BACKSLASH_ESCAPES sql_mode: backslash is then an ordinary character in strings. */
  readonly noBackslashEscapes?: boolean;
}

export interface LexResult {
  readonly tokens: readonly Token[];
  /** Ranges [start, end) that are comments or executable-comment markers (not code). */
  readonly skips: readonly (readonly [number, number])[];
}

const enum Ch {
  Tab = 9, Lf = 10, Cr = 13, Space = 32, Bang = 33, DQuote = 34, Hash = 35, Dollar = 36,
  SQuote = 39, LParen = 40, Star = 42, Dash = 45, Dot = 46, Slash = 47, D0 = 48, D9 = 57,
  Colon = 58, Semi = 59, Lt = 60, Eq = 61, Gt = 62, Question = 63, At = 64, UpperA = 65,
  UpperM = 77, UpperZ = 90, Backslash = 92, Underscore = 95, Backtick = 96, LowerA = 97,
  LowerZ = 122, Pipe = 124, Amp = 38,
}

function isIdentChar(c: number): boolean {
  return (c >= Ch.LowerA && c <= Ch.LowerZ) || (c >= Ch.UpperA && c <= Ch.UpperZ) ||
    (c >= Ch.D0 && c <= Ch.D9) || c === Ch.Underscore || c === Ch.Dollar || c >= 0x80;
}

function isDigit(c: number): boolean { return c >= Ch.D0 && c <= Ch.D9; }

function isSpace(c: number): boolean {
  return c === Ch.Space || c === Ch.Tab || c === Ch.Lf || c === Ch.Cr || c === 11 || c === 12;
}

function isHexDigit(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/** Multi-character operators, longest first. */
const OPERATORS = ['<=>', '->>', '<=', '>=', '<>', '!=', ':=', '||', '&&', '<<', '>>', '->'];

/** Scans a quoted run starting at the opening quote; returns the index after the closing quote. */
function scanQuoted(sql: string, at: number, quote: number, backslash: boolean): number {
  let i = at + 1;
  const n = sql.length;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (backslash && c === Ch.Backslash) { i += 2; continue; }
    if (c === quote) {
      if (i + 1 < n && sql.charCodeAt(i + 1) === quote) { i += 2; continue; } // doubled quote
      return i + 1;
    }
    i++;
  }
  return n; // unterminated: the server rejects it; we keep the rest as one token
}

export function tokenize(sql: string, options: LexOptions = {}): LexResult {
  const backslash = options.noBackslashEscapes !== true;
  const tokens: Token[] = [];
  const skips: [number, number][] = [];
  const n = sql.length;
  let i = 0;
  let gap = false;
  let execDepth = 0; // inside /*! ... */: the closing */ is a marker, not an operator

  const push = (type: TokenType, start: number, end: number): void => {
    tokens.push({ type, start, end, raw: sql.slice(start, end), gap });
    gap = false;
  };

  while (i < n) {
    const c = sql.charCodeAt(i);
    if (isSpace(c)) { i++; gap = true; continue; }
    const c1 = i + 1 < n ? sql.charCodeAt(i + 1) : -1;

    // Comments and executable-comment markers.
    if (c === Ch.Hash) {
      const nl = sql.indexOf('\n', i);
      const end = nl < 0 ? n : nl;
      skips.push([i, end]); i = end; gap = true; continue;
    }
    if (c === Ch.Dash && c1 === Ch.Dash) {
      const c2 = i + 2 < n ? sql.charCodeAt(i + 2) : 0;
      // `-- ` needs whitespace or a control character after it; `--1` is minus minus one.
      if (c2 <= Ch.Space) {
        const nl = sql.indexOf('\n', i);
        const end = nl < 0 ? n : nl;
        skips.push([i, end]); i = end; gap = true; continue;
      }
    }
    if (c === Ch.Slash && c1 === Ch.Star) {
      const c2 = i + 2 < n ? sql.charCodeAt(i + 2) : -1;
      const c3 = i + 3 < n ? sql.charCodeAt(i + 3) : -1;
      let markerEnd = -1;
      if (c2 === Ch.Bang) markerEnd = i + 3;
      else if (c2 === Ch.UpperM && c3 === Ch.Bang) markerEnd = i + 4;
      if (markerEnd >= 0) {
        // Version-gated or not, the content is treated as code: failing closed beats guessing the
        // server version (a too-new gate only makes the statement unparsable, never invisible).
        let j = markerEnd;
        while (j < n && j - markerEnd < 6 && isDigit(sql.charCodeAt(j))) j++;
        skips.push([i, j]); i = j; gap = true; execDepth++; continue;
      }
      const close = sql.indexOf('*/', i + 2);
      const end = close < 0 ? n : close + 2;
      skips.push([i, end]); i = end; gap = true; continue;
    }
    if (execDepth > 0 && c === Ch.Star && c1 === Ch.Slash) {
      skips.push([i, i + 2]); i += 2; gap = true; execDepth--; continue;
    }

    // Literals whose introducer is a letter: X'..', B'..', N'..'.
    if ((c === 88 || c === 120 || c === 66 || c === 98 || c === 78 || c === 110) && c1 === Ch.SQuote) {
      const isNational = c === 78 || c === 110;
      const end = scanQuoted(sql, i + 1, Ch.SQuote, isNational && backslash);
      push(isNational ? 'string' : 'hex', i, end); i = end; continue;
    }
    if (c === Ch.SQuote || c === Ch.DQuote) {
      const end = scanQuoted(sql, i, c, backslash);
      push('string', i, end); i = end; continue;
    }
    if (c === Ch.Backtick) {
      const end = scanQuoted(sql, i, Ch.Backtick, false);
      push('ident', i, end); i = end; continue;
    }
    if (c === Ch.Semi) { push('semi', i, i + 1); i++; continue; }
    if (c === Ch.Question) { push('param', i, i + 1); i++; continue; }

    if (c === Ch.At) {
      const prev = tokens[tokens.length - 1];
      // 'user'@'host': the @ joins an account name, it is not a variable.
      if (!gap && prev !== undefined && (prev.type === 'string' || prev.type === 'ident' || prev.type === 'word')) {
        push('op', i, i + 1); i++; continue;
      }
      let j = i + 1;
      if (j < n && sql.charCodeAt(j) === Ch.At) j++;
      const q = j < n ? sql.charCodeAt(j) : -1;
      if (q === Ch.SQuote || q === Ch.DQuote || q === Ch.Backtick) {
        j = scanQuoted(sql, j, q, q !== Ch.Backtick && backslash);
      } else {
        while (j < n && (isIdentChar(sql.charCodeAt(j)) || sql.charCodeAt(j) === Ch.Dot)) j++;
      }
      push('variable', i, j); i = j; continue;
    }

    if (isDigit(c) || (c === Ch.Dot && isDigit(c1) && !followsName(tokens, gap))) {
      let j = i;
      if (c === Ch.D0 && (c1 === 120 || c1 === 98) && i + 2 < n) {
        // 0x1F / 0b101, unless it continues as an identifier (0xZZ is a name).
        const hex = c1 === 120;
        let k = i + 2;
        while (k < n && (hex ? isHexDigit(sql.charCodeAt(k)) : (sql.charCodeAt(k) === 48 || sql.charCodeAt(k) === 49))) k++;
        if (k > i + 2 && (k >= n || !isIdentChar(sql.charCodeAt(k)))) { push('hex', i, k); i = k; continue; }
      }
      while (j < n && isDigit(sql.charCodeAt(j))) j++;
      if (j < n && sql.charCodeAt(j) === Ch.Dot) { j++; while (j < n && isDigit(sql.charCodeAt(j))) j++; }
      if (j < n && (sql.charCodeAt(j) === 101 || sql.charCodeAt(j) === 69)) {
        let k = j + 1;
        if (k < n && (sql.charCodeAt(k) === 43 || sql.charCodeAt(k) === Ch.Dash)) k++;
        if (k < n && isDigit(sql.charCodeAt(k))) { j = k; while (j < n && isDigit(sql.charCodeAt(j))) j++; }
      }
      if (j < n && isIdentChar(sql.charCodeAt(j)) && c !== Ch.Dot) {
        // MySQL names may start with digits (`1abc`).
        while (j < n && isIdentChar(sql.charCodeAt(j))) j++;
        push('word', i, j); i = j; continue;
      }
      push('number', i, j); i = j; continue;
    }
    if (isIdentChar(c)) {
      let j = i + 1;
      while (j < n && isIdentChar(sql.charCodeAt(j))) j++;
      push('word', i, j); i = j; continue;
    }
    let len = 1;
    for (const op of OPERATORS) {
      if (sql.startsWith(op, i)) { len = op.length; break; }
    }
    push('op', i, i + len); i += len;
  }
  return { tokens, skips };
}

/** `t.5x`-style qualified names: a dot right after a name is a qualifier, not a decimal point. */
function followsName(tokens: readonly Token[], gap: boolean): boolean {
  const prev = tokens[tokens.length - 1];
  return !gap && prev !== undefined && (prev.type === 'word' || prev.type === 'ident' || prev.raw === ')');
}

/** The value of a quoted token: quotes removed, doubled quotes and backslash escapes resolved. */
export function unquote(raw: string, noBackslashEscapes = false): string {
  let body = raw;
  let q = body.charCodeAt(0);
  if ((q === 78 || q === 110) && body.charCodeAt(1) === Ch.SQuote) { body = body.slice(1); q = Ch.SQuote; }
  if (q !== Ch.SQuote && q !== Ch.DQuote && q !== Ch.Backtick) return raw;
  const closed = body.length >= 2 && body.charCodeAt(body.length - 1) === q;
  const inner = body.slice(1, closed ? body.length - 1 : body.length);
  const quote = String.fromCharCode(q);
  let out = '';
  for (let i = 0; i < inner.length; i++) {
    const ch = inner[i] as string;
    if (ch === '\\' && q !== Ch.Backtick && !noBackslashEscapes && i + 1 < inner.length) {
      const e = inner[++i] as string;
      out += ESCAPES[e] ?? e;
      continue;
    }
    if (ch === quote && inner[i + 1] === quote) { out += quote; i++; continue; }
    out += ch;
  }
  return out;
}

const ESCAPES: Readonly<Record<string, string>> = {
  '0': '\0', "'": "'", '"': '"', b: '\b', n: '\n', r: '\r', t: '\t', Z: '\x1a', '\\': '\\',
  // \% and \_ keep their backslash (they matter to LIKE).
  '%': '\\%', _: '\\_',
};

/** The name a word or backtick token stands for. */
export function identName(token: Token): string {
  return token.type === 'ident' ? unquote(token.raw) : token.raw;
}

/**
 * The statement's code with each comment and executable-comment marker replaced by one space: what
 * node-sql-parser gets, since it would otherwise drop `/*! ... *\/` content as a comment.
 */
export function codeText(sql: string, skips: readonly (readonly [number, number])[], start: number, end: number): string {
  let out = '';
  let at = start;
  for (const [s, e] of skips) {
    if (e <= start || s >= end) continue;
    const from = Math.max(s, start);
    out += sql.slice(at, from) + ' ';
    at = Math.min(e, end);
  }
  return out + sql.slice(at, end);
}
