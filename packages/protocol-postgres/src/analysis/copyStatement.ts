// What a `COPY ... TO STDOUT` statement says about the bytes its CopyData messages carry: the format
// and its options (libpg-query folds the legacy `CSV HEADER`, `BINARY`, `DELIMITER AS` syntaxes into
// the same DefElem list as `WITH (...)`), and what it copies (a relation with an optional column
// list, or a query). COPY is rare, so the statement text is parsed again rather than carried along.
import type { ObjectRef } from '@querygate/core';
import { parseSync, type CopyStmt, type DefElem, type Node } from 'libpg-query';
import type { CopyFormat, CopyOptions } from '../codec/copyRows';
import { bodyOf, namesOf, relationRef, stringOf, tagOf } from './ast';

/** A `COPY ... TO` statement, as far as relaying its data needs it. */
export interface CopyStatement {
  readonly options: CopyOptions;
  /** `COPY table [(columns)] TO`: the table; undefined for `COPY (query) TO`. */
  readonly relation: ObjectRef | undefined;
  /** The explicit column list of `COPY table (a, b) TO`, empty when none. */
  readonly columns: readonly string[];
}

/**
 * Reads a `COPY ... TO` statement's options from its text. Undefined when the text is not one
 * COPY TO statement or an option is not what PostgreSQL accepts (a multi-byte delimiter, an
 * unknown format): the server would have refused it, and the caller must not guess.
 */
export function copyStatementOf(text: string): CopyStatement | undefined {
  let stmts: ReadonlyArray<{ stmt?: Node }>;
  try {
    stmts = parseSync(text).stmts ?? [];
  } catch {
    return undefined;
  }
  if (stmts.length !== 1) return undefined;
  const copy = bodyOf<CopyStmt>(stmts[0]!.stmt, 'CopyStmt');
  if (copy === undefined || copy.is_from === true) return undefined;
  const options = copyOptionsOf(copy.options ?? []);
  if (options === undefined) return undefined;
  return {
    options,
    relation: copy.relation !== undefined && copy.query === undefined ? relationRef(copy.relation) : undefined,
    columns: namesOf(copy.attlist),
  };
}

const BACKSLASH_N = Buffer.from('\\N', 'latin1');
const EMPTY = Buffer.alloc(0);

function copyOptionsOf(list: readonly Node[]): CopyOptions | undefined {
  let format: CopyFormat = 'text';
  let delimiter: string | undefined;
  let nullString: string | undefined;
  let quote: string | undefined;
  let escape: string | undefined;
  let header = false;
  let encoding: string | undefined;
  for (const item of list) {
    const def = bodyOf<DefElem>(item, 'DefElem');
    if (def === undefined) return undefined;
    const arg = def.arg;
    switch (def.defname) {
      case 'format': {
        const f = stringOf(arg);
        if (f !== 'text' && f !== 'csv' && f !== 'binary') return undefined;
        format = f;
        break;
      }
      case 'delimiter': delimiter = stringOf(arg); if (delimiter === undefined) return undefined; break;
      case 'null': nullString = stringOf(arg); if (nullString === undefined) return undefined; break;
      case 'quote': quote = stringOf(arg); if (quote === undefined) return undefined; break;
      case 'escape': escape = stringOf(arg); if (escape === undefined) return undefined; break;
      case 'encoding': encoding = stringOf(arg); if (encoding === undefined) return undefined; break;
      case 'header': {
        const h = booleanOf(arg);
        if (h === undefined) return undefined;
        header = h;
        break;
      }
      // How the server chose to quote (CSV) or what COPY FROM does: no effect on how rows are read.
      case 'force_quote': case 'force_not_null': case 'force_null': case 'freeze': case 'oids':
      case 'on_error': case 'log_verbosity': case 'reject_limit': case 'default':
        break;
      default:
        return undefined;
    }
  }
  const csv = format === 'csv';
  const delimiterByte = singleByte(delimiter ?? (csv ? ',' : '\t'));
  const quoteByte = csv ? singleByte(quote ?? '"') : 0;
  const escapeByte = csv ? singleByte(escape ?? quote ?? '"') : 0;
  if (delimiterByte === undefined || quoteByte === undefined || escapeByte === undefined) return undefined;
  return {
    format,
    delimiter: delimiterByte,
    nullString: nullString === undefined ? (csv ? EMPTY : BACKSLASH_N) : Buffer.from(nullString, 'utf8'),
    quote: quoteByte,
    escape: escapeByte,
    header,
    encoding,
  };
}

/** PostgreSQL requires these options to be one single-byte character. */
function singleByte(s: string): number | undefined {
  const b = Buffer.from(s, 'utf8');
  return b.length === 1 ? b[0] : undefined;
}

/** HEADER's argument: none (true), a boolean, 0 / 1, or true/false/on/off/match as a word. */
function booleanOf(arg: Node | undefined): boolean | undefined {
  if (arg === undefined) return true;
  switch (tagOf(arg)) {
    case 'Boolean': return bodyOf<{ boolval?: boolean }>(arg, 'Boolean')?.boolval === true;
    case 'Integer': {
      const n = bodyOf<{ ival?: number }>(arg, 'Integer')?.ival ?? 0;
      return n === 0 ? false : n === 1 ? true : undefined;
    }
    case 'String': {
      const s = (stringOf(arg) ?? '').toLowerCase();
      if (s === 'true' || s === 'on' || s === 'match') return true;
      if (s === 'false' || s === 'off') return false;
      return undefined;
    }
    default: return undefined;
  }
}
