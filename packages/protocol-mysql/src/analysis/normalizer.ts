import type { Token } from './lexer';
import { upper } from './splitter';

/**
 * Reserved words are upper-cased in the normalised text so `select` and `SELECT` share a cache
 * entry. Other words stay as written: unquoted table names are case-sensitive on most servers, and
 * the cached analysis names them.
 */
const RESERVED = new Set(`
ADD ALL ALTER ANALYZE AND AS ASC BETWEEN BIGINT BINARY BLOB BOTH BY CALL CASCADE CASE CHANGE CHAR
CHARACTER CHECK COLLATE COLUMN CONSTRAINT CONVERT CREATE CROSS CURRENT_DATE CURRENT_TIME
CURRENT_TIMESTAMP CURRENT_USER DATABASE DATABASES DECIMAL DEFAULT DELAYED DELETE DESC DESCRIBE
DISTINCT DISTINCTROW DIV DOUBLE DROP DUAL ELSE ELSEIF ESCAPED EXISTS EXPLAIN FALSE FLOAT FOR FORCE
FOREIGN FROM FULLTEXT GRANT GROUP HAVING HIGH_PRIORITY IF IGNORE IN INDEX INFILE INNER INSERT INT
INTEGER INTERVAL INTO IS JOIN KEY KEYS KILL LEADING LEFT LIKE LIMIT LINES LOAD LOCK LONG LOW_PRIORITY
MATCH MOD NATURAL NOT NULL ON OPTIMIZE OPTION OPTIONALLY OR ORDER OUTER OUTFILE PRIMARY PROCEDURE
READ REFERENCES REGEXP RENAME REPLACE RESTRICT REVOKE RIGHT RLIKE SCHEMA SELECT SET SHOW SMALLINT
SQL_CALC_FOUND_ROWS STARTING STRAIGHT_JOIN TABLE TERMINATED THEN TINYINT TO TRAILING TRIGGER TRUE
UNION UNIQUE UNLOCK UNSIGNED UPDATE USAGE USE USING VALUES VARCHAR WHEN WHERE WITH WRITE XOR
`.trim().split(/\s+/));

/** Words after which a string literal is an operand, never an alias. */
const OPERAND_CONTEXT = new Set([
  'LIKE', 'REGEXP', 'RLIKE', 'AND', 'OR', 'NOT', 'XOR', 'IS', 'IN', 'THEN', 'ELSE', 'WHEN', 'BY',
  'SEPARATOR', 'ESCAPE', 'INTERVAL', 'BETWEEN', 'DIV', 'MOD', 'CASE', 'SELECT', 'WHERE', 'HAVING', 'ON',
  'SET', 'VALUES', 'VALUE', 'DEFAULT', 'INFILE', 'OUTFILE', 'DUMPFILE', 'IDENTIFIED', 'PASSWORD',
  'COMMENT', 'TERMINATED', 'ENCLOSED', 'ESCAPED', 'STARTING', 'LINES', 'FIELDS', 'COLUMNS', 'RETURN',
  'LIMIT', 'OFFSET', 'BINARY', 'COLLATE', 'AGAINST', 'DATE', 'TIME', 'TIMESTAMP', 'TO', 'FROM', 'USING',
  'SONAME', 'DISTINCT', 'ALL', 'ANY', 'SOME', 'EXISTS', 'ROW', 'ELSEIF', 'UNTIL', 'DO', 'KILL', 'FOR',
]);

const EXPRESSION_END = new Set([',', ')', ';']);
const ALIAS_FOLLOWERS = new Set(['FROM', 'INTO', 'WHERE', 'GROUP', 'ORDER', 'HAVING', 'LIMIT', 'UNION', 'WINDOW', 'FOR', 'LOCK']);

function isLiteral(t: Token | undefined): boolean {
  return t !== undefined && (t.type === 'string' || t.type === 'number' || t.type === 'hex' || t.type === 'param');
}

/**
 * A string literal that names an output column (`AS 'total'`, `SELECT a 'x'`) is kept verbatim: the
 * cached lineage carries that name. Anything else is an operand and is normalised.
 */
function isStringAlias(tokens: readonly Token[], i: number): boolean {
  const prev = tokens[i - 1];
  if (prev === undefined) return false;
  const prevWord = upper(prev);
  if (prevWord === 'AS') return true;
  const endsExpression = (prev.type === 'word' && !OPERAND_CONTEXT.has(prevWord) && !RESERVED.has(prevWord)) ||
    prev.type === 'ident' || prev.type === 'number' || prev.raw === ')';
  if (!endsExpression) return false;
  const next = tokens[i + 1];
  return next === undefined || EXPRESSION_END.has(next.raw) || ALIAS_FOLLOWERS.has(upper(next));
}

/** Joins without a space before these and after the opening ones. */
const NO_SPACE_BEFORE = new Set([',', ')', '.', '@']);
const NO_SPACE_AFTER = new Set(['(', '.', '@']);

/**
 * The statement with literals replaced by `?`, lists of literals collapsed to `(...)` (and multi-row
 * VALUES to one row), comments and executable-comment markers dropped, whitespace canonical. It is
 * the cache key, so everything the analysis depends on must survive it: `keepStrings` keeps every
 * string verbatim (PREPARE/EXECUTE IMMEDIATE texts, stored-program bodies).
 */
export function normalize(tokens: readonly Token[], keepStrings: boolean): string {
  let out = '';
  let prevRaw = '';
  const first = upper(tokens[0]);
  const keepAll = keepStrings || first === 'PREPARE' || first === 'EXECUTE';
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    let piece: string;
    if (t.raw === '(' && !keepAll) {
      const collapsed = literalGroupEnd(tokens, i);
      if (collapsed > 0) {
        piece = '(...)';
        let j = collapsed;
        // Multi-row VALUES: one shape however many rows.
        if (isValuesKeyword(tokens[i - 1])) {
          while (tokens[j]?.raw === ',' && tokens[j + 1]?.raw === '(') {
            const more = literalGroupEnd(tokens, j + 1);
            if (more <= 0) break;
            j = more;
          }
        }
        i = j - 1;
        out += spaceBetween(prevRaw, '(...)', out.length === 0, !t.gap && tokens[i - 1]?.type !== 'op') + piece;
        prevRaw = ')';
        continue;
      }
    }
    switch (t.type) {
      case 'word': {
        const w = t.raw.toUpperCase();
        piece = RESERVED.has(w) ? w : t.raw;
        break;
      }
      case 'string':
        piece = keepAll || isStringAlias(tokens, i) ? t.raw : '?';
        break;
      case 'number': case 'hex': case 'param':
        piece = keepAll && t.type !== 'param' ? t.raw : '?';
        break;
      default:
        piece = t.raw;
    }
    out += spaceBetween(prevRaw, piece, out.length === 0, t.raw === '(' && !t.gap && tokens[i - 1]?.type !== 'op') + piece;
    prevRaw = piece;
  }
  return out;
}

function isValuesKeyword(t: Token | undefined): boolean {
  const w = upper(t);
  return w === 'VALUES' || w === 'VALUE';
}

/** If tokens[i] opens `(lit, lit, ...)`, the index after its `)`; otherwise -1. */
function literalGroupEnd(tokens: readonly Token[], i: number): number {
  let j = i + 1;
  if (!isLiteralOrNull(tokens[j])) return -1;
  for (;;) {
    if (!isLiteralOrNull(tokens[j])) return -1;
    if (tokens[j]?.type === 'string' && isStringAlias(tokens, j)) return -1;
    j++;
    const sep = tokens[j]?.raw;
    if (sep === ')') return j + 1;
    if (sep !== ',') return -1;
    j++;
  }
}

function isLiteralOrNull(t: Token | undefined): boolean {
  return isLiteral(t) || upper(t) === 'NULL';
}

function spaceBetween(prev: string, next: string, atStart: boolean, glued: boolean): string {
  if (atStart) return '';
  if (NO_SPACE_BEFORE.has(next) || NO_SPACE_AFTER.has(prev)) return '';
  if (next === '(' && glued) return '';
  if (next === '(...)' && glued) return '';
  return ' ';
}
