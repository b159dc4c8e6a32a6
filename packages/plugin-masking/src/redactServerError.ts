import type { ServerError, ServerErrorText, Statement } from '@querygate/core';

/** What masking writes instead of a whole error message that may be a value. */
export const WITHHELD_MESSAGE = 'error text withheld by masking: it may contain a sensitive value';

// SQLSTATEs whose text a user's code writes (PL/pgSQL RAISE / ASSERT: class P0; MySQL SIGNAL:
// 45000, errno 1644), and XML errors, whose DETAIL quotes the document and libxml names its tags.
const USER_TEXT = /^(P0...|45000|1644)$/;
const XML_ERRORS = new Set(['2200L', '2200M', '2200N', '2200S', '2200T']);
// A PostgreSQL function frame: the message may come from RAISE with any SQLSTATE.
const FUNCTION_FRAME = /\bPL\/pgSQL\b|\bat RAISE\b/;
// Templates where a server prints a value unquoted or in brackets. Greedy to the LAST bracket of the
// field: a value may itself contain brackets or quotes.
const JSON_EXCERPT = /(JSON data, line \d+: )[^\n]*/g;
const KEY_VALUES = /(\)\s*=\s*\()[\s\S]*\)/;
const FAILING_ROW = /(Failing row contains \()[\s\S]*\)/;
const OPERATOR_NAME = /(operator does not exist: )[^\n]*/;
const BYTE_SEQUENCE = /0x[0-9a-f]{2}(?:\s+0x[0-9a-f]{2})*/gi;
// Numbers of four digits or more that the statement did not write: a server prints some values
// unquoted (`requested character too large for encoding: 219099871`, `large object 4539 does not
// exist`, a year out of range).
const LONG_NUMBER = /(?<![\p{L}\p{N}_.])\d{4,}(?![\p{L}\p{N}_])/gu;
const NUMBERS = /\d+/g;
// Quoted identifiers / literals / words of the statement, to keep quotes the client wrote itself.
const TOKENS = /'((?:[^'\\]|''|\\.)*)'|"((?:[^"]|"")*)"|`((?:[^`]|``)*)`|([\p{L}_][\p{L}\p{N}_$]*)/gu;
// Words of the error templates that sit between two quoted names (`column "a" of relation "b"`,
// `Unknown column 'a' in 'field list'`).
const TEMPLATE_WORDS = new Set(['of', 'in', 'for', 'and', 'or', 'on', 'at', 'relation', 'table', 'column', 'key', 'type', 'schema', 'index', 'constraint', 'function', 'database']);
const TEMPLATE_PHRASES = new Set(['field list', 'where clause', 'order clause', 'on clause', 'group statement', 'having clause']);

/**
 * The text of a server error with values taken out, for a statement that reads sensitive data:
 * quoted spans (`"..."`, `'...'`, from the first quote to the last, since a value can contain quotes),
 * key values (`Key (email)=(...)`), failing rows, JSON excerpts and byte sequences become
 * `redaction`; a message a user's code wrote (RAISE, SIGNAL) is withheld whole, with DETAIL and
 * HINT. The SQLSTATE and the template text stay, so the client still understands the error. A
 * quoted span is kept when every quoted piece in it is a word, identifier or literal the statement
 * itself contains (the client wrote it: `relation "usrs" does not exist`) and the text between the
 * pieces is template words: what the client learns then is at most that a value equals a string
 * it wrote, which a WHERE clause tells as well.
 */
export function redactServerError(error: ServerError, statement: Statement | undefined, redaction: string, database?: string): ServerErrorText {
  const { known, numbers } = statementWords(statement, database);
  const field = (text: string | undefined): string | undefined => (text === undefined ? undefined : redactNumbers(redactText(text, known, redaction), numbers, redaction));
  const userText = isUserText(error);
  return {
    message: userText ? WITHHELD_MESSAGE : field(error.message)!,
    detail: userText || error.detail === undefined ? undefined : XML_ERRORS.has(error.code) ? redaction : field(error.detail),
    hint: userText ? undefined : field(error.hint),
    where: field(error.where),
  };
}

/** True for text a user's code wrote: RAISE / ASSERT / SIGNAL, or any message from a PL/pgSQL frame. */
export function isUserText(error: ServerError): boolean {
  return USER_TEXT.test(error.code) || FUNCTION_FRAME.test(error.where ?? '');
}

function redactNumbers(text: string, numbers: ReadonlySet<string>, redaction: string): string {
  return text.replace(LONG_NUMBER, (n) => (numbers.has(n) ? n : redaction));
}

function redactText(text: string, known: ReadonlySet<string>, redaction: string): string {
  let out = text
    .replace(JSON_EXCERPT, (_m, head: string) => `${head}${redaction}`)
    .replace(KEY_VALUES, (_m, head: string) => `${head}${redaction})`)
    .replace(FAILING_ROW, (_m, head: string) => `${head}${redaction})`)
    .replace(OPERATOR_NAME, (_m, head: string) => `${head}${redaction}`)
    .replace(BYTE_SEQUENCE, '0x**');
  const first = firstQuote(out);
  if (first < 0) return out;
  const last = lastQuote(out);
  if (last <= first) {
    // A lone quote: whatever follows it may be a value.
    return `${out.slice(0, first + 1)}${redaction}`;
  }
  const span = out.slice(first, last + 1);
  if (written(span, known)) return out;
  out = `${out.slice(0, first + 1)}${redaction}${out[last]}${out.slice(last + 1)}`;
  return out;
}

/** The first quote that opens a quoted span (an apostrophe inside a word, as in `can't`, does not). */
function firstQuote(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') return i;
    if (c === "'" && (i === 0 || !/[\p{L}\p{N}]/u.test(text[i - 1]!))) return i;
  }
  return -1;
}

/** The last quote that closes a quoted span (not an apostrophe between two letters, as in `doesn't`). */
function lastQuote(text: string): number {
  for (let i = text.length - 1; i >= 0; i--) {
    const c = text[i];
    if (c === '"') return i;
    if (c === "'" && !(i > 0 && i < text.length - 1 && /[\p{L}]/u.test(text[i - 1]!) && /[\p{L}]/u.test(text[i + 1]!))) return i;
  }
  return -1;
}

/** True when the span is quoted pieces the statement wrote, joined by template words. */
function written(span: string, known: ReadonlySet<string>): boolean {
  const pieces = /(["'])((?:(?!\1)[^])*)\1/gy;
  let pos = 0;
  let quoted = 0;
  while (pos < span.length) {
    pieces.lastIndex = pos;
    const m = pieces.exec(span);
    if (!m) return false;
    if (!isKnown(m[2]!, known)) return false;
    quoted++;
    pos = pieces.lastIndex;
    if (pos >= span.length) break;
    const next = span.slice(pos).search(/["']/);
    if (next < 0) return false;
    const between = span.slice(pos, pos + next).trim().toLowerCase();
    if (between !== '' && !between.split(/\s+/).every((w) => TEMPLATE_WORDS.has(w))) return false;
    pos += next;
  }
  return quoted > 0;
}

function isKnown(piece: string, known: ReadonlySet<string>): boolean {
  const p = piece.toLowerCase();
  if (p === '' || known.has(p) || TEMPLATE_PHRASES.has(p)) return true;
  // `schema.table`, `table.column`: each part written by the client (or the session's database).
  const parts = p.split('.');
  return parts.length > 1 && parts.every((part) => part !== '' && known.has(part));
}

/** What the client wrote, which a kept span or number may repeat: quoted pieces and words, numbers. */
function statementWords(statement: Statement | undefined, database: string | undefined): { known: ReadonlySet<string>; numbers: ReadonlySet<string> } {
  const known = new Set<string>();
  const numbers = new Set<string>();
  if (database) known.add(database.toLowerCase());
  const visit = (s: Statement): void => {
    for (const m of s.text.matchAll(TOKENS)) {
      const value = m[1] ?? m[2] ?? m[3] ?? m[4] ?? '';
      known.add(value.replace(/''/g, "'").replace(/""/g, '"').replace(/``/g, '`').toLowerCase());
    }
    for (const m of s.text.matchAll(NUMBERS)) numbers.add(m[0]);
    for (const n of s.nested ?? []) visit(n);
  };
  if (statement) visit(statement);
  return { known, numbers };
}
