import {
  ProxyTracerProvider, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace,
  type Attributes, type Context, type Span, type Tracer,
} from '@opentelemetry/api';
import type { SessionSummary } from '../Interceptor';
import type { Session } from '../Session';
import type { Statement } from '../Statement';
import { traceparentOf } from './traceparent';

const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

/**
 * True when a real tracer provider is registered (the gateway started the OpenTelemetry SDK).
 * Sessions opened while it is false create no spans at all, so tracing off costs one check per
 * session.
 */
export function tracingActive(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegate() !== NOOP_PROVIDER;
}

export const TRACER_NAME = '@querygate/core';

/** `db.system` values (OpenTelemetry semantic conventions). */
const DB_SYSTEM = { postgres: 'postgresql', mysql: 'mysql' } as const;

/** Spans of one statement, from judging to completion. */
export interface StatementSpans {
  readonly span: Span;
  /** Context whose active span is the statement span, for children. */
  readonly context: Context;
  upstream?: Span;
  hold?: Span;
  plan?: Span;
}

const sessions = new WeakMap<Session, SessionTrace>();

/**
 * A session's spans: one for the session, one per statement (a child of the client's trace when
 * the statement carries a sqlcommenter `traceparent`, else of the session span), and children for
 * analysis, each interceptor hook, a hold, upstream execution and result planning (masking).
 */
export class SessionTrace {
  private readonly span: Span;
  private readonly context: Context;
  private readonly open = new Map<Statement, StatementSpans[]>();

  constructor(private readonly tracer: Tracer, private readonly session: Session) {
    this.span = tracer.startSpan('querygate.session', {
      kind: SpanKind.SERVER,
      startTime: session.startedAt,
      attributes: {
        'db.system': DB_SYSTEM[session.protocol],
        'db.namespace': session.database,
        'querygate.session.id': session.id,
        'querygate.listener': session.listener,
        'querygate.identity.subject': session.identity.subject,
        'querygate.identity.method': session.identity.method,
        'client.address': session.clientAddress,
      },
    }, ROOT_CONTEXT);
    this.context = trace.setSpan(ROOT_CONTEXT, this.span);
    sessions.set(session, this);
  }

  /** The trace of a session, for hook wrappers that only see the Session. */
  static of(session: Session): SessionTrace | undefined { return sessions.get(session); }

  get sessionSpan(): Span { return this.span; }

  /** Starts a statement's span (and an analysis child when the adapter timed analysis). */
  startStatement(statement: Statement, via: string, analysis?: { readonly startTime: number; readonly endTime: number }): StatementSpans {
    const remote = traceparentOf(statement.text);
    const parent = remote ? trace.setSpanContext(ROOT_CONTEXT, remote) : this.context;
    const attributes: Attributes = {
      'db.system': DB_SYSTEM[this.session.protocol],
      'db.namespace': this.session.database,
      'db.query.text': statement.normalized,
      'db.operation.name': statement.command,
      'querygate.session.id': this.session.id,
      'querygate.statement.kind': statement.kind,
      'querygate.statement.via': via,
      'querygate.fingerprint': statement.fingerprint,
    };
    const span = this.tracer.startSpan(`${statement.command} ${this.session.database}`, {
      kind: SpanKind.SERVER,
      attributes,
      links: remote ? [{ context: this.span.spanContext(), attributes: { 'querygate.link': 'session' } }] : undefined,
      startTime: analysis?.startTime,
    }, parent);
    const context = trace.setSpan(ROOT_CONTEXT, span);
    if (analysis) {
      this.tracer.startSpan('querygate.analysis', { startTime: analysis.startTime }, context).end(analysis.endTime);
    }
    const spans: StatementSpans = { span, context };
    const list = this.open.get(statement);
    if (list) list.push(spans);
    else this.open.set(statement, [spans]);
    return spans;
  }

  /** The newest open spans of a statement (hook wrappers and result planning attach to them). */
  current(statement: Statement): StatementSpans | undefined {
    const list = this.open.get(statement);
    return list?.[list.length - 1];
  }

  /** The oldest open spans of a statement: the one whose result is arriving (results come in order). */
  executing(statement: Statement): StatementSpans | undefined {
    return this.open.get(statement)?.[0];
  }

  /** A child span of the statement, or of the session when the statement has none open. */
  child(statement: Statement | undefined, name: string, attributes?: Attributes, kind = SpanKind.INTERNAL): Span {
    const parent = (statement && this.current(statement)?.context) ?? this.context;
    return this.tracer.startSpan(name, { kind, attributes }, parent);
  }

  /** A span around result planning (the masking plan); its hooks' spans are its children. */
  startPlan(statement: Statement, columns: number): StatementSpans | undefined {
    const spans = this.executing(statement);
    if (!spans) return undefined;
    spans.plan?.end();
    spans.plan = this.tracer.startSpan('querygate.result_plan', { attributes: { 'querygate.result.columns': columns } }, spans.context);
    return spans;
  }

  endPlan(spans: StatementSpans | undefined, masked: number | undefined, label: string | undefined, error?: unknown): void {
    const plan = spans?.plan;
    if (!plan) return;
    spans.plan = undefined;
    if (masked !== undefined) plan.setAttribute('querygate.masked_columns', masked);
    if (label) plan.setAttribute('querygate.plan', label);
    if (error !== undefined) plan.setStatus({ code: SpanStatusCode.ERROR, message: String((error as Error)?.message ?? error) });
    plan.end();
  }

  /** A child of the result plan span (result hooks). */
  resultChild(statement: Statement, name: string, attributes?: Attributes): Span {
    const spans = this.executing(statement);
    const parent = spans?.plan ?? spans?.span ?? this.span;
    return this.tracer.startSpan(name, { attributes }, trace.setSpan(ROOT_CONTEXT, parent));
  }

  held(spans: StatementSpans, rule: string | undefined): void {
    spans.hold = this.tracer.startSpan('querygate.hold', { attributes: rule ? { 'querygate.rule': rule } : undefined }, spans.context);
  }

  /** Records the verdict; a deny (or a statement that will not run) ends the span. */
  decided(spans: StatementSpans, verdict: 'allow' | 'deny', rule: string | undefined, error?: { readonly code: string; readonly message: string }): void {
    spans.hold?.end();
    spans.hold = undefined;
    spans.span.setAttribute('querygate.verdict', verdict);
    if (rule) spans.span.setAttribute('querygate.rule', rule);
    if (error) {
      spans.span.setAttribute('error.type', error.code);
      spans.span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    }
  }

  /** The statement goes upstream now. */
  forwarded(spans: StatementSpans): void {
    spans.upstream ??= this.tracer.startSpan('querygate.upstream', {
      kind: SpanKind.CLIENT,
      attributes: { 'db.system': DB_SYSTEM[this.session.protocol], 'db.namespace': this.session.database },
    }, spans.context);
  }

  completed(statement: Statement, rows: number | undefined, error: { readonly code: string; readonly message: string } | undefined, masked: number | undefined): void {
    const spans = this.take(statement);
    if (!spans) return;
    if (spans.upstream) {
      if (rows !== undefined) spans.upstream.setAttribute('db.response.returned_rows', rows);
      if (error) spans.upstream.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
      spans.upstream.end();
    }
    spans.plan?.end();
    if (rows !== undefined) {
      spans.span.setAttribute('db.response.returned_rows', rows);
    }
    if (masked !== undefined && masked > 0) spans.span.setAttribute('querygate.masked_values', masked);
    if (error) {
      spans.span.setAttribute('error.type', error.code);
      spans.span.setAttribute('db.response.status_code', error.code);
      spans.span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    }
    spans.span.end();
  }

  /** Ends a statement's spans without a completion (denied, or refused with its message). */
  close(statement: Statement, spans: StatementSpans): void {
    const list = this.open.get(statement);
    if (list) {
      const i = list.indexOf(spans);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.open.delete(statement);
    }
    spans.hold?.end();
    spans.upstream?.end();
    spans.plan?.end();
    spans.span.end();
  }

  private take(statement: Statement): StatementSpans | undefined {
    const list = this.open.get(statement);
    if (!list) return undefined;
    // Completions arrive in the order statements were forwarded: the oldest open one.
    const spans = list.shift();
    if (list.length === 0) this.open.delete(statement);
    return spans;
  }

  end(summary: SessionSummary): void {
    for (const list of this.open.values()) {
      for (const spans of list) {
        spans.span.setAttribute('querygate.unfinished', true);
        spans.hold?.end();
        spans.upstream?.end();
        spans.plan?.end();
        spans.span.end();
      }
    }
    this.open.clear();
    this.span.setAttributes({
      'querygate.statements': summary.statements,
      'querygate.denied': summary.denied,
      'querygate.end_reason': summary.reason,
    });
    if (summary.reason === 'error') this.span.setStatus({ code: SpanStatusCode.ERROR });
    this.span.end();
    sessions.delete(this.session);
  }
}
