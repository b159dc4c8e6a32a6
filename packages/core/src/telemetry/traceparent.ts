import { createTraceState, TraceFlags, type SpanContext } from '@opentelemetry/api';

// sqlcommenter puts key='value' pairs (values URL-encoded) in a comment, usually at the end of the
// statement; some drivers put it first. Any comment may carry it, so the whole text is scanned.
const TRACEPARENT = /traceparent\s*=\s*'([^']*)'/;
const TRACESTATE = /tracestate\s*=\s*'([^']*)'/;
const W3C = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

function decode(value: string): string {
  if (!value.includes('%')) return value;
  try { return decodeURIComponent(value); } catch { return value; }
}

/**
 * The W3C trace context a client put in its SQL as a sqlcommenter-style comment
 * (`/*traceparent='00-<trace id>-<span id>-01'*\/`, possibly among other key='value' pairs),
 * or undefined when there is none or it is malformed. Only text inside a comment counts, so a
 * string literal that happens to contain the key is ignored.
 */
export function traceparentOf(sql: string): SpanContext | undefined {
  // Fast path: most statements carry no trace context.
  if (!sql.includes('traceparent')) return undefined;
  for (const comment of comments(sql)) {
    const m = TRACEPARENT.exec(comment);
    if (!m) continue;
    const parts = W3C.exec(decode(m[1]!).trim().toLowerCase());
    if (!parts) return undefined;
    const [, version, traceId, spanId, flags] = parts;
    // Version ff is forbidden; later versions must still parse as version 00's prefix.
    if (version === 'ff' || traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
    const state = TRACESTATE.exec(comment);
    const context: SpanContext = {
      traceId: traceId!,
      spanId: spanId!,
      traceFlags: parseInt(flags!, 16) & TraceFlags.SAMPLED,
      isRemote: true,
    };
    return state ? { ...context, traceState: createTraceState(decode(state[1]!)) } : context;
  }
  return undefined;
}

/** The bodies of block and line comments, skipping quoted strings and identifiers. */
function* comments(sql: string): Generator<string> {
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    if (c === '\'' || c === '"' || c === '`') {
      const close = c;
      i++;
      while (i < n) {
        if (sql[i] === '\\' && close === '\'') { i += 2; continue; }
        if (sql[i] === close) {
          if (sql[i + 1] === close) { i += 2; continue; }
          break;
        }
        i++;
      }
      i++;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      yield sql.slice(i + 2, end < 0 ? n : end);
      i = end < 0 ? n : end + 2;
    } else if ((c === '-' && sql[i + 1] === '-') || c === '#') {
      const end = sql.indexOf('\n', i);
      yield sql.slice(i + (c === '#' ? 1 : 2), end < 0 ? n : end);
      i = end < 0 ? n : end + 1;
    } else {
      i++;
    }
  }
}
