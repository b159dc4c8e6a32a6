import type { AuditEventType } from '../AuditEvent';
import type { AuditTrail } from '../audit/AuditTrail';
import { GatewayError } from '../GatewayError';
import type { ServerError, SessionSummary, StatementContext } from '../Interceptor';
import type { Logger } from '../Logger';
import type { AuditEventInput } from '../Plugin';
import type { SessionRecording } from '../recording/SessionRecording';
import type { ResultSet, RowObserver, RowTransform, ValueMask } from '../ResultSet';
import type { Session } from '../Session';
import type { Statement } from '../Statement';
import type { SessionMetrics } from '../telemetry/GatewayMetrics';
import type { SessionTrace, StatementSpans } from '../telemetry/SessionTrace';
import type { Allow, Deny, Hold } from '../Verdict';
import { Verdicts } from '../Verdict';
import { OrderedQueue } from './OrderedQueue';
import type { Pipeline } from './Pipeline';

export interface StatementRun {
  readonly via: StatementContext['via'];
  readonly parameters?: readonly (string | null)[];
  /** Told when a hook holds the statement; PostgreSQL adapters send it as a NoticeResponse. */
  readonly onNotice?: (text: string) => void;
  /**
   * Experimental: when the adapter analysed this message (epoch milliseconds, `Date.now()` or
   * `performance.timeOrigin + performance.now()`), so traces show an analysis span.
   */
  readonly analysis?: { readonly startTime: number; readonly endTime: number };
}

/** Experimental: something the client was told besides results (see `GatewaySession.recordEvent`). */
export interface SessionEvent {
  readonly kind: 'notice' | 'warning' | 'error';
  /** The text the client got (a server NOTICE / MySQL warning is the server's own text). */
  readonly message: string;
  /** SQLSTATE, MySQL errno, or a gateway error code. */
  readonly code?: string;
  /** The statement it belongs to, when there is one. */
  readonly statement?: Statement;
}

/**
 * What the gateway core attaches to a session besides the pipeline: its recording, its trace, its
 * metrics. Each is optional; with none, a session costs what it did before they existed.
 */
export interface SessionObservers {
  readonly recording?: SessionRecording;
  readonly trace?: SessionTrace;
  readonly metrics?: SessionMetrics;
}

/** One judged statement while recording or tracing: its number in the recording and its spans. */
interface Tracked {
  readonly statement: Statement;
  readonly n: number;
  readonly spans: StatementSpans | undefined;
  readonly top: boolean;
}

const NO_COLUMNS: ReadonlyMap<number, ValueMask> = new Map();
const MAX_INFLIGHT_PER_STATEMENT = 64;
const MAX_INFLIGHT = 4096;

export interface Completion {
  readonly rows?: number;
  readonly durationMs: number;
  readonly error?: { readonly code: string; readonly message: string };
  /** Columns a RowTransform rewrote and how many values; names only, never values. */
  readonly masked?: { readonly columns: readonly string[]; readonly values: number };
}

export type Decided = Allow | Deny;

/**
 * One client session's way into the pipeline, as a protocol adapter drives it: judge statements,
 * plan results, report completions, end. Emits the session's audit events with gap-free sequence
 * numbers.
 */
export class GatewaySession {
  readonly queue: OrderedQueue;
  private seq = 0;
  private controller = new AbortController();
  private statements = 0;
  private denied = 0;
  private ended = false;
  private observers: SessionObservers = {};
  /** Recording or tracing is on: statements are tracked from judging to completion. */
  private observed = false;
  private readonly inflight = new Map<Statement, Tracked[]>();

  constructor(
    readonly session: Session,
    private readonly pipeline: Pipeline,
    private readonly trail: AuditTrail,
    readonly logger: Logger,
    maxQueued: number,
  ) {
    this.queue = new OrderedQueue(maxQueued);
  }

  /** Wires recording, tracing and metrics; the gateway calls it once the session is admitted. */
  observe(observers: SessionObservers): void {
    this.observers = observers;
    this.observed = observers.recording !== undefined || observers.trace !== undefined;
  }

  get id(): string { return this.session.id; }
  /**
   * True when results must be planned: a plugin has a result hook, or the session is recorded
   * (the recording observes the rows the client receives).
   */
  get hasResultHooks(): boolean { return this.pipeline.hasResultHooks || this.observers.recording !== undefined; }

  /** Hash of the recording's last written line, when the session is recorded. */
  get recordingHead(): string | undefined { return this.observers.recording?.head; }

  /** Emits an audit event for this session (the next sequence number). */
  audit(event: Omit<AuditEventInput, 'sessionId'> & { readonly event: AuditEventType }): void {
    const s = this.session;
    this.trail.emit({
      listener: s.listener,
      protocol: s.protocol,
      database: s.database,
      ...event,
      sessionId: s.id,
      seq: ++this.seq,
    });
  }

  context(run: StatementRun): StatementContext {
    return { session: this.session, parameters: run.parameters, via: run.via, signal: this.controller.signal };
  }

  /**
   * Judges every statement of one client message (and the statements nested in them). All must be
   * allowed for the message to run; the first deny refuses the whole message. Synchronous when
   * every hook is.
   */
  judge(statements: readonly Statement[], run: StatementRun): Decided | Promise<Decided> {
    if (this.trail.strict && !this.trail.healthy) return this.refuse(statements, run, new GatewayError('QG_AUDIT_UNAVAILABLE'));
    const context = this.context(run);
    const all = flatten(statements);
    if (!this.observed) return this.judgeFrom(all, 0, context, run, undefined);
    const message: Tracked[] = [];
    // flatten returns its argument when nothing is nested: no parents to find then.
    const parents = all === statements ? undefined : parentIndexes(all);
    const decided = this.judgeFrom(all, 0, context, run, message, parents);
    if (decided instanceof Promise) {
      return decided.then((d) => { this.settle(message, d, run); return d; });
    }
    this.settle(message, decided, run);
    return decided;
  }

  /**
   * Refuses a message without asking the hooks, when the gateway cannot judge it (the audit trail
   * is down, the catalog the hooks need could not be read): audited and observed like any denial.
   */
  refuse(statements: readonly Statement[], run: StatementRun, error: GatewayError): Decided {
    const denied = Verdicts.deny(error);
    for (const statement of statements) {
      this.statements++;
      this.denied++;
      this.auditDecision('statement.denied', statement, 'deny', error);
      this.observers.metrics?.denied.inc();
      if (this.observed) {
        const tracked = this.track(statement, run, undefined, true);
        this.observeVerdict(tracked, denied);
        this.untrack(tracked);
      }
    }
    return denied;
  }

  private judgeFrom(
    all: readonly Statement[], from: number, context: StatementContext, run: StatementRun,
    message: Tracked[] | undefined, parents?: ReadonlyMap<number, number>,
  ): Decided | Promise<Decided> {
    for (let i = from; i < all.length; i++) {
      const statement = all[i]!;
      const tracked = message ? this.trackIn(message, all, i, run, parents) : undefined;
      const verdict = this.pipeline.judge(statement, context, (hold, interceptor) => {
        this.auditDecision('statement.held', statement, 'hold', undefined, hold.rule ?? interceptor);
        this.observers.metrics?.held.inc();
        if (tracked) this.observeHold(tracked, hold, interceptor);
        if (hold.notice) run.onNotice?.(hold.notice);
      });
      if (verdict instanceof Promise) {
        return verdict.then((decided) => {
          if (!this.record(statement, decided, tracked)) return decided;
          return this.judgeFrom(all, i + 1, context, run, message, parents);
        });
      }
      if (!this.record(statement, verdict, tracked)) return verdict;
    }
    return Verdicts.allow();
  }

  /** Audits one decision; true when allowed. */
  private record(statement: Statement, decided: Decided, tracked?: Tracked): boolean {
    this.statements++;
    if (tracked) this.observeVerdict(tracked, decided);
    if (decided.action === 'allow') {
      this.observers.metrics?.allowed.inc();
      this.auditDecision('statement.allowed', statement, 'allow');
      return true;
    }
    this.denied++;
    this.observers.metrics?.denied.inc();
    this.auditDecision('statement.denied', statement, 'deny', decided.error);
    return false;
  }

  private trackIn(message: Tracked[], all: readonly Statement[], i: number, run: StatementRun, parents: ReadonlyMap<number, number> | undefined): Tracked {
    const statement = all[i]!;
    const p = parents?.get(i);
    const parent = p === undefined ? undefined : message[p];
    const tracked = this.track(statement, run, parent, i === 0);
    message.push(tracked);
    return tracked;
  }

  private track(statement: Statement, run: StatementRun, parent: Tracked | undefined, first: boolean): Tracked {
    const { recording, trace } = this.observers;
    const n = recording ? recording.statement(statement, run.via, run.parameters, parent?.n) : 0;
    const spans = trace?.startStatement(statement, run.via, first ? run.analysis : undefined);
    return { statement, n, spans, top: parent === undefined };
  }

  private observeHold(tracked: Tracked, hold: Hold, interceptor: string): void {
    const rule = hold.rule ?? interceptor;
    this.observers.recording?.verdict(tracked.n, 'hold', rule, undefined, hold.notice);
    if (tracked.spans) this.observers.trace!.held(tracked.spans, rule);
  }

  private observeVerdict(tracked: Tracked, decided: Decided): void {
    const error = decided.action === 'deny' ? { code: decided.error.code, message: decided.error.message } : undefined;
    const rule = decided.action === 'deny' ? decided.error.rule : undefined;
    this.observers.recording?.verdict(tracked.n, decided.action, rule, error);
    if (tracked.spans) this.observers.trace!.decided(tracked.spans, decided.action, rule, error);
  }

  /**
   * After a whole message is decided: the top-level statements of an allowed message go upstream
   * and are tracked until they complete; the rest (a refused message, nested statements, a
   * Parse / COM_STMT_PREPARE, which completes nothing) end here.
   */
  private settle(message: readonly Tracked[], decided: Decided, run: StatementRun): void {
    const runs = decided.action === 'allow' && run.via !== 'prepare';
    for (const tracked of message) {
      if (runs && tracked.top) {
        if (tracked.spans) this.observers.trace!.forwarded(tracked.spans);
        const list = this.inflight.get(tracked.statement);
        if (list) {
          list.push(tracked);
          // An adapter path that never reports a completion must not grow this without bound.
          if (list.length > MAX_INFLIGHT_PER_STATEMENT) this.untrack(list.shift()!);
        } else {
          if (this.inflight.size >= MAX_INFLIGHT) {
            const [oldest, stale] = this.inflight.entries().next().value as [Statement, Tracked[]];
            this.inflight.delete(oldest);
            stale.forEach((t) => this.untrack(t));
          }
          this.inflight.set(tracked.statement, [tracked]);
        }
      } else {
        this.untrack(tracked);
      }
    }
  }

  private untrack(tracked: Tracked): void {
    if (tracked.spans) this.observers.trace!.close(tracked.statement, tracked.spans);
  }

  /** The oldest statement in flight for this Statement (results and completions come in order). */
  private executing(statement: Statement): Tracked | undefined {
    return this.inflight.get(statement)?.[0];
  }

  private finished(statement: Statement): Tracked | undefined {
    const list = this.inflight.get(statement);
    if (!list) return undefined;
    const tracked = list.shift();
    if (list.length === 0) this.inflight.delete(statement);
    return tracked;
  }

  /**
   * Experimental: tells the session's recording about something the client was told besides
   * results and the gateway's own refusals: a server notice or warning, an error sent outside a
   * statement's completion. Cheap when nothing records.
   */
  recordEvent(event: SessionEvent): void {
    const recording = this.observers.recording;
    if (!recording) return;
    const n = event.statement ? this.executing(event.statement)?.n : undefined;
    recording.event(event.kind, event.message, event.code, n);
  }

  private auditDecision(event: AuditEventType, statement: Statement, verdict: 'allow' | 'deny' | 'hold', error?: GatewayError, rule?: string): void {
    this.audit({
      event,
      identity: identityOf(this.session),
      statement: statementSummary(statement),
      fingerprint: statement.fingerprint,
      verdict,
      rule: rule ?? error?.rule,
      error: error ? { code: error.code, message: error.message } : undefined,
    });
  }

  planResult(result: ResultSet, run: StatementRun): RowTransform | undefined | Promise<RowTransform | undefined> {
    if (!this.observed) return this.pipeline.planResult(result, this.context(run));
    const trace = this.observers.trace;
    const spans = trace?.startPlan(result.statement, result.columns.length);
    let planned: RowTransform | undefined | Promise<RowTransform | undefined>;
    try {
      planned = this.pipeline.planResult(result, this.context(run));
    } catch (err) {
      trace?.endPlan(spans, undefined, undefined, err);
      throw err;
    }
    if (planned instanceof Promise) {
      return planned.then(
        (plan) => this.observePlan(result, plan, spans),
        (err: unknown) => { trace?.endPlan(spans, undefined, undefined, err); throw err; },
      );
    }
    return this.observePlan(result, planned, spans);
  }

  /**
   * Composes the pipeline's plan with the recording's row observer, as the last stage: the
   * recording sees the rows after every mask. Rows are decoded for it only when recording is on.
   */
  private observePlan(result: ResultSet, plan: RowTransform | undefined, spans: StatementSpans | undefined): RowTransform | undefined {
    this.observers.trace?.endPlan(spans, plan?.columns.size ?? 0, plan?.label);
    const recording = this.observers.recording;
    if (!recording) return plan;
    const n = this.executing(result.statement)?.n ?? 0;
    const masked = plan && plan.columns.size > 0 ? [...plan.columns.keys()].sort((a, b) => a - b) : undefined;
    const observer = recording.result(n, result.columns.map((c) => c.name), plan?.label, masked);
    if (!observer) return plan;
    const limit = recording.maxRowsPerResult;
    const before = plan?.observe;
    let observe: RowObserver = observer;
    if (before) {
      const beforeLimit = plan.observeLimit ?? 0;
      let seen = 0;
      observe = (row) => {
        if (seen++ < beforeLimit) before(row);
        if (seen <= limit) observer(row);
      };
    }
    return {
      columns: plan?.columns ?? NO_COLUMNS,
      label: plan?.label,
      observe,
      observeLimit: before ? Math.max(limit, plan.observeLimit ?? 0) : limit,
    };
  }

  /**
   * Experimental. The text of a database error (or notice) as the client may see it, after the
   * plugins' error hooks (masking removes values a server quoted). Adapters call it on every upstream
   * error before forwarding it. Synchronous; returns `error` itself when nothing changed (always, when
   * no plugin has an error hook), so the adapter re-encodes only a changed error.
   */
  redactError(statement: Statement | undefined, error: ServerError, run?: StatementRun): ServerError {
    if (!this.pipeline.hasErrorHooks) return error;
    const context = run ? this.context(run) : { session: this.session, via: 'simple' as const, signal: this.controller.signal };
    return this.pipeline.redactError(error, { ...context, statement });
  }

  /** Reports how an allowed statement ended. Never blocks the caller. */
  complete(statement: Statement, completion: Completion, run: StatementRun): void {
    if (completion.error && this.pipeline.hasErrorHooks) {
      // Audit and recording keep only code and message: redacted again here, in case the adapter did not.
      const { code, message } = this.redactError(statement, completion.error, run);
      if (message !== completion.error.message) completion = { ...completion, error: { code, message } };
    }
    const metrics = this.observers.metrics;
    if (metrics) {
      metrics.duration.observe(completion.durationMs / 1000);
      if (completion.error) metrics.failed.inc();
      if (completion.masked && completion.masked.values > 0) metrics.masked.inc(completion.masked.values);
    }
    if (this.observed) {
      const tracked = this.finished(statement);
      this.observers.recording?.complete(tracked?.n ?? 0, completion);
      this.observers.trace?.completed(statement, completion.rows, completion.error, completion.masked?.values);
    }
    this.audit({
      event: 'statement.completed',
      statement: statementSummary(statement),
      fingerprint: statement.fingerprint,
      verdict: completion.error ? undefined : 'allow',
      rows: completion.rows,
      durationMs: completion.durationMs,
      error: completion.error,
    });
    if (completion.masked && completion.masked.values > 0) {
      this.audit({ event: 'masking.applied', fingerprint: statement.fingerprint, masking: completion.masked });
    }
    if (this.pipeline.hasCompleteHooks) {
      const context = this.context(run);
      const outcome = {
        statement,
        verdict: 'allow' as const,
        rows: completion.rows,
        durationMs: completion.durationMs,
        error: completion.error,
      };
      void this.pipeline.complete((hook) => hook.onStatementComplete!(outcome, context), 'onStatementComplete');
    }
  }

  /** Cancels whatever statement is waiting for a decision (client cancel request). */
  cancelPending(): void {
    this.controller.abort();
    this.controller = new AbortController();
  }

  async end(reason: SessionSummary['reason']): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.controller.abort();
    const summary: SessionSummary = {
      statements: this.statements,
      denied: this.denied,
      durationMs: Date.now() - this.session.startedAt.getTime(),
      reason,
    };
    this.audit({ event: 'session.ended', identity: identityOf(this.session), durationMs: summary.durationMs, rows: undefined });
    this.inflight.clear();
    this.observers.trace?.end(summary);
    const recorded = this.observers.recording?.end({
      reason: summary.reason, statements: summary.statements, denied: summary.denied, durationMs: summary.durationMs,
    });
    await this.pipeline.complete((hook) => hook.onSessionEnd!(this.session, summary), 'onSessionEnd');
    await recorded;
  }
}

/** Index of each nested statement's parent in a flattened list (depth first, parents first). */
function parentIndexes(all: readonly Statement[]): ReadonlyMap<number, number> {
  const parents = new Map<number, number>();
  const index = new Map<Statement, number[]>();
  all.forEach((s, i) => {
    const list = index.get(s);
    if (list) list.push(i);
    else index.set(s, [i]);
  });
  all.forEach((s, i) => {
    for (const child of s.nested ?? []) {
      const at = index.get(child)?.find((j) => j > i && !parents.has(j));
      if (at !== undefined) parents.set(at, i);
    }
  });
  return parents;
}

function flatten(statements: readonly Statement[]): readonly Statement[] {
  if (!statements.some((s) => s.nested && s.nested.length > 0)) return statements;
  const out: Statement[] = [];
  const visit = (s: Statement): void => {
    out.push(s);
    for (const n of s.nested ?? []) visit(n);
  };
  statements.forEach(visit);
  return out;
}

export function identityOf(session: Session): AuditEventInput['identity'] {
  const { subject, groups, method, issuer } = session.identity;
  return issuer === undefined ? { subject, groups, method } : { subject, groups, method, issuer };
}

export function statementSummary(statement: Statement): NonNullable<AuditEventInput['statement']> {
  const objects = [...statement.reads, ...statement.writes].map((o) => (o.schema ? `${o.schema}.${o.name}` : o.name));
  return {
    text: statement.normalized,
    kind: statement.kind,
    command: statement.command,
    objects: [...new Set(objects)],
    risks: [...statement.risks],
  };
}
