import type { AuditEventType } from '../AuditEvent';
import type { AuditTrail } from '../audit/AuditTrail';
import { GatewayError } from '../GatewayError';
import type { SessionSummary, StatementContext } from '../Interceptor';
import type { Logger } from '../Logger';
import type { AuditEventInput } from '../Plugin';
import type { ResultSet, RowTransform } from '../ResultSet';
import type { Session } from '../Session';
import type { Statement } from '../Statement';
import type { Allow, Deny } from '../Verdict';
import { Verdicts } from '../Verdict';
import { OrderedQueue } from './OrderedQueue';
import type { Pipeline } from './Pipeline';

export interface StatementRun {
  readonly via: StatementContext['via'];
  readonly parameters?: readonly (string | null)[];
  /** Told when a hook holds the statement; PostgreSQL adapters send it as a NoticeResponse. */
  readonly onNotice?: (text: string) => void;
}

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

  constructor(
    readonly session: Session,
    private readonly pipeline: Pipeline,
    private readonly trail: AuditTrail,
    readonly logger: Logger,
    maxQueued: number,
  ) {
    this.queue = new OrderedQueue(maxQueued);
  }

  get id(): string { return this.session.id; }
  get hasResultHooks(): boolean { return this.pipeline.hasResultHooks; }

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
    if (this.trail.strict && !this.trail.healthy) {
      const error = new GatewayError('QG_AUDIT_UNAVAILABLE');
      for (const statement of statements) this.auditDecision('statement.denied', statement, 'deny', error);
      return Verdicts.deny(error);
    }
    const context = this.context(run);
    const all = flatten(statements);
    return this.judgeFrom(all, 0, context, run);
  }

  private judgeFrom(all: readonly Statement[], from: number, context: StatementContext, run: StatementRun): Decided | Promise<Decided> {
    for (let i = from; i < all.length; i++) {
      const statement = all[i]!;
      const verdict = this.pipeline.judge(statement, context, (hold, interceptor) => {
        this.auditDecision('statement.held', statement, 'hold', undefined, hold.rule ?? interceptor);
        if (hold.notice) run.onNotice?.(hold.notice);
      });
      if (verdict instanceof Promise) {
        return verdict.then((decided) => {
          if (!this.record(statement, decided)) return decided;
          return this.judgeFrom(all, i + 1, context, run);
        });
      }
      if (!this.record(statement, verdict)) return verdict;
    }
    return Verdicts.allow();
  }

  /** Audits one decision; true when allowed. */
  private record(statement: Statement, decided: Decided): boolean {
    this.statements++;
    if (decided.action === 'allow') {
      this.auditDecision('statement.allowed', statement, 'allow');
      return true;
    }
    this.denied++;
    this.auditDecision('statement.denied', statement, 'deny', decided.error);
    return false;
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
    return this.pipeline.planResult(result, this.context(run));
  }

  /** Reports how an allowed statement ended. Never blocks the caller. */
  complete(statement: Statement, completion: Completion, run: StatementRun): void {
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
    await this.pipeline.complete((hook) => hook.onSessionEnd!(this.session, summary), 'onSessionEnd');
  }
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
