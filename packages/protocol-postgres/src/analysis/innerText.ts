// Finds the text of a statement embedded in another (PREPARE ... AS <stmt>, EXPLAIN ... <stmt>,
// COPY (<query>) TO, DECLARE ... FOR <query>) with PostgreSQL's own scanner, so the nested Statement
// carries the client's exact text. libpg-query reports byte offsets into the UTF-8 encoding.
import { scanSync, type ScanToken } from 'libpg-query';

/** Maps UTF-8 byte offsets of `text` to UTF-16 offsets. */
export function byteToChar(text: string): (byte: number) => number {
  if (Buffer.byteLength(text) === text.length) return (b) => b;
  const table: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const cp = text.codePointAt(i) ?? 0;
    const len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    for (let k = 0; k < len; k++) table.push(i);
    if (cp > 0xffff) i++;
  }
  table.push(text.length);
  return (b) => table[Math.min(Math.max(b, 0), table.length - 1)];
}

interface Token { readonly start: number; readonly end: number; readonly word: string }

function tokens(text: string): Token[] | undefined {
  let scanned: ScanToken[];
  try {
    scanned = scanSync(text).tokens;
  } catch {
    return undefined;
  }
  const toChar = byteToChar(text);
  return scanned
    .filter((t) => t.tokenName !== 'SQL_COMMENT' && t.tokenName !== 'C_COMMENT')
    .map((t) => ({ start: toChar(t.start), end: toChar(t.end), word: t.text.toLowerCase() }));
}

function from(text: string, toks: readonly Token[], index: number, end = text.length): string | undefined {
  if (index >= toks.length) return undefined;
  const inner = text.slice(toks[index].start, end).trim();
  return inner === '' ? undefined : inner;
}

/** `PREPARE name [ (types) ] AS stmt` → stmt. */
export function prepareBody(text: string): string | undefined {
  const toks = tokens(text);
  if (toks === undefined) return undefined;
  let depth = 0;
  for (let i = 2; i < toks.length; i++) {
    const w = toks[i].word;
    if (w === '(') depth++;
    else if (w === ')') depth--;
    else if (depth === 0 && w === 'as') return from(text, toks, i + 1);
  }
  return undefined;
}

/** `EXPLAIN [ (options) | ANALYZE | VERBOSE ... ] stmt` → stmt. */
export function explainBody(text: string): string | undefined {
  const toks = tokens(text);
  if (toks === undefined || toks.length < 2) return undefined;
  let i = 1;
  if (toks[i].word === '(') {
    let depth = 0;
    for (; i < toks.length; i++) {
      if (toks[i].word === '(') depth++;
      else if (toks[i].word === ')' && --depth === 0) { i++; break; }
    }
  } else {
    while (i < toks.length && (toks[i].word === 'analyze' || toks[i].word === 'analyse' || toks[i].word === 'verbose')) i++;
  }
  return from(text, toks, i);
}

/** `COPY ( query ) TO ...` → query. */
export function copyQuery(text: string): string | undefined {
  const toks = tokens(text);
  if (toks === undefined || toks.length < 3 || toks[1].word !== '(') return undefined;
  let depth = 0;
  for (let i = 1; i < toks.length; i++) {
    if (toks[i].word === '(') depth++;
    else if (toks[i].word === ')' && --depth === 0) return from(text, toks, 2, toks[i].start);
  }
  return undefined;
}

/** `DECLARE name [options] CURSOR [WITH HOLD] FOR query` → query. */
export function cursorQuery(text: string): string | undefined {
  const toks = tokens(text);
  if (toks === undefined) return undefined;
  const cursor = toks.findIndex((t) => t.word === 'cursor');
  if (cursor < 0) return undefined;
  for (let i = cursor + 1; i < toks.length; i++) if (toks[i].word === 'for') return from(text, toks, i + 1);
  return undefined;
}
