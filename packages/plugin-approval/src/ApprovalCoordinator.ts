import {
  GatewayError, statementSummary, Verdicts,
  type Allow, type ApprovalReason, type ApprovalService, type AuditEventInput, type Deny, type Hold, type Logger,
  type Statement, type StatementContext,
} from '@querygate/core';
import { grantKeyOf, sameKey, type ApprovalMode, type ApprovalRequest, type GrantKey } from './ApprovalRequest';
import { consoleLink, formatDuration, newRequestId } from './format';
import type { ApprovalQuery, ApprovalStore, ChangeListener, UpdateResult } from './store/ApprovalStore';
import { castApproval, castDenial, close, consumeGrant, grantCovers, refusal, type Approver, type VoteInput } from './transitions';
import type { WebhookNotifier } from './WebhookNotifier';

export interface CoordinatorOptions {
  readonly mode: ApprovalMode;
  readonly timeoutMs: number;
  readonly maxWindowMs: number;
  readonly retryGrantMs: number;
  readonly sweepIntervalMs: number;
  readonly approvers: { readonly groups: readonly string[]; readonly count: number };
}

export interface CoordinatorDeps {
  readonly store: ApprovalStore;
  /** `gateway.id`: requests are stamped with it, and a restart cancels its own held requests. */
  readonly gatewayId: string;
  readonly adminUrl: string | undefined;
  readonly logger: Logger;
  readonly audit: (event: AuditEventInput) => void;
  readonly notifier?: WebhookNotifier;
  readonly clock?: () => number;
}

type Decided = Allow | Deny;

interface Waiter {
  readonly resolve: (decided: Decided) => void;
  readonly timer: NodeJS.Timeout;
  readonly unwatch: () => void;
}

/**
 * The approval service: turns a statement that needs approval into a request, a hold (or an
 * immediate error in reject-and-retry mode), and settles the hold when the request is decided —
 * here or, through the store, on another replica. Every final transition happens once (the store
 * is atomic per request), and whoever made it audits and notifies it.
 */
export class ApprovalCoordinator implements ApprovalService {
  private readonly waiters = new Map<string, Waiter>();
  private readonly tasks = new Set<Promise<unknown>>();
  private unsubscribe: (() => void) | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping = false;
  private stopped = false;
  private readonly now: () => number;

  constructor(private readonly options: CoordinatorOptions, private readonly deps: CoordinatorDeps) {
    this.now = deps.clock ?? Date.now;
  }

  get store(): ApprovalStore { return this.deps.store; }

  /**
   * Listens for decisions and cancels the held requests an earlier run of this gateway left
   * pending: the sessions waiting on them died with it. Reject-and-retry requests stay decidable.
   */
  async start(): Promise<void> {
    this.unsubscribe = this.deps.store.subscribe((request) => this.onChange(request));
    const orphans = await this.deps.store.list({ status: ['pending'], gateway: this.deps.gatewayId, limit: 1000 });
    for (const request of orphans) {
      if (request.mode !== 'hold') continue;
      await this.finish(request.id, 'cancelled', 'gateway restarted');
    }
    this.sweepTimer = setInterval(() => { void this.sweep(); }, this.options.sweepIntervalMs);
    this.sweepTimer.unref();
  }

  async request(statement: Statement, context: StatementContext, reason: ApprovalReason): Promise<Hold | Deny | Allow> {
    const { session } = context;
    const key: GrantKey = { subject: session.identity.subject, fingerprint: statement.fingerprint, listener: session.listener, database: session.database };
    const now = this.now();
    const earlier = await this.deps.store.list({ subject: key.subject, fingerprint: key.fingerprint, status: ['approved', 'pending'], limit: 50 });
    for (const candidate of earlier) {
      if (!grantCovers(candidate, key, now)) continue;
      if (candidate.grant!.scope === 'window') {
        this.deps.logger.info('statement allowed by an approval window', { sessionId: session.id, requestId: candidate.id, until: candidate.grant!.until });
        return Verdicts.allow();
      }
      const used = await this.deps.store.update(candidate.id, (current) => consumeGrant(current, key, this.now()));
      if (used.ok) {
        this.deps.logger.info('statement allowed by a one-shot approval', { sessionId: session.id, requestId: candidate.id });
        return Verdicts.allow();
      }
    }

    if (this.options.mode === 'reject-and-retry') {
      const waiting = earlier.find((r) => r.status === 'pending' && r.mode === 'reject-and-retry' && sameKey(grantKeyOf(r), key) && Date.parse(r.expiresAt) > now);
      const request = waiting ?? await this.create(statement, context, reason, 'reject-and-retry');
      const link = consoleLink(this.deps.adminUrl, request.id);
      return Verdicts.deny(new GatewayError('QG_APPROVAL_PENDING',
        `querygate: rule "${reason.rule}" requires approval: request ${request.id} ${waiting ? 'is waiting for a decision' : 'was created'}${link ? ` — approve at ${link}` : ''}; retry the statement once it is approved (request expires ${request.expiresAt})`,
        { rule: reason.rule, detail: reason.message, hint: `querygate approvals approve ${request.id}` }));
    }

    const request = await this.create(statement, context, reason, 'hold');
    const decision = new Promise<Decided>((resolve) => {
      const timer = setTimeout(() => { void this.finish(request.id, 'expired', `no decision within ${formatDuration(this.options.timeoutMs)}`); }, Math.max(0, Date.parse(request.expiresAt) - this.now()));
      timer.unref();
      this.waiters.set(request.id, { resolve, timer, unwatch: this.deps.store.watch(request.id) });
    });
    // A decision may have landed between create and the waiter (another replica was quick).
    const latest = await this.deps.store.get(request.id);
    if (latest) this.onChange(latest);
    const link = consoleLink(this.deps.adminUrl, request.id);
    return Verdicts.hold(decision, {
      rule: reason.rule,
      notice: `approval required: request ${request.id} — approve at ${link ?? `the admin API, e.g. \`querygate approvals approve ${request.id}\``}`,
      cancel: (why) => { void this.finish(request.id, 'cancelled', why); },
    });
  }

  private async create(statement: Statement, context: StatementContext, reason: ApprovalReason, mode: ApprovalMode): Promise<ApprovalRequest> {
    const { session } = context;
    const now = this.now();
    const { subject, groups, method, issuer } = session.identity;
    const request: ApprovalRequest = {
      id: newRequestId(),
      version: 1,
      gateway: this.deps.gatewayId,
      mode,
      status: 'pending',
      sessionId: session.id,
      requester: issuer === undefined ? { subject, groups: [...groups], method } : { subject, groups: [...groups], method, issuer },
      listener: session.listener,
      protocol: session.protocol,
      database: session.database,
      clientAddress: session.clientAddress,
      statement: {
        text: statement.text,
        fingerprint: statement.fingerprint,
        kind: statement.kind,
        command: statement.command,
        ...(context.parameters && context.parameters.length > 0 ? { parameters: [...context.parameters] } : {}),
      },
      rule: reason.rule,
      message: reason.message,
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + this.options.timeoutMs).toISOString(),
      required: this.options.approvers.count,
      votes: [],
    };
    await this.deps.store.create(request);
    this.deps.audit({
      event: 'approval.requested',
      sessionId: session.id,
      identity: request.requester,
      statement: statementSummary(statement),
      fingerprint: statement.fingerprint,
      verdict: 'hold',
      rule: reason.rule,
      approval: { requestId: request.id },
    });
    this.deps.logger.info('approval requested', { requestId: request.id, sessionId: session.id, rule: reason.rule, mode });
    this.deps.notifier?.notify('requested', request);
    return request;
  }

  /** Whether this approver may decide requests at all (group membership). */
  isApprover(approver: Approver): boolean {
    return approver.groups.some((g) => this.options.approvers.groups.includes(g));
  }

  async approve(id: string, approver: Approver, input: VoteInput): Promise<UpdateResult> {
    if (!this.isApprover(approver)) return { ok: false, refusal: refusal(403, 'not_approver', `${approver.subject} is not in an approver group (${this.options.approvers.groups.join(', ')})`) };
    if (input.windowMs !== undefined && input.windowMs > this.options.maxWindowMs) {
      input = { ...input, windowMs: this.options.maxWindowMs };
    }
    const result = await this.track(this.deps.store.update(id, (current) => castApproval(current, approver, input, this.now(), { retryGrantMs: this.options.retryGrantMs })));
    if (result.ok) {
      if (result.request.status === 'approved') this.decided(result.request);
      else this.deps.logger.info('approval vote recorded', { requestId: id, approver: approver.subject, votes: result.request.votes.length, required: result.request.required });
    } else if (result.refusal.code === 'expired') {
      await this.finish(id, 'expired', `no decision within ${formatDuration(this.options.timeoutMs)}`);
    }
    return result;
  }

  async deny(id: string, approver: Approver, reason: string): Promise<UpdateResult> {
    if (!this.isApprover(approver)) return { ok: false, refusal: refusal(403, 'not_approver', `${approver.subject} is not in an approver group (${this.options.approvers.groups.join(', ')})`) };
    const result = await this.track(this.deps.store.update(id, (current) => castDenial(current, approver, reason, this.now())));
    if (result.ok) this.decided(result.request);
    else if (result.refusal.code === 'expired') await this.finish(id, 'expired', `no decision within ${formatDuration(this.options.timeoutMs)}`);
    return result;
  }

  get(id: string): Promise<ApprovalRequest | undefined> {
    return this.deps.store.get(id);
  }

  list(query: ApprovalQuery): Promise<ApprovalRequest[]> {
    return this.deps.store.list(query);
  }

  /** Every change to every request, from any replica (the SSE stream). */
  subscribe(listener: ChangeListener): () => void {
    return this.deps.store.subscribe(listener);
  }

  /** The gateway closes a request (expired / cancelled); a no-op when it is already decided. */
  private async finish(id: string, status: 'expired' | 'cancelled', reason: string): Promise<void> {
    try {
      const result = await this.track(this.deps.store.update(id, (current) => close(current, status, reason, this.now())));
      if (result.ok) this.decided(result.request);
    } catch (err) {
      this.deps.logger.error(`cannot mark approval request ${status}`, { requestId: id, error: (err as Error).message });
      // The session must not wait forever on a store that fails: settle it locally.
      const waiter = this.waiters.get(id);
      if (waiter && status === 'expired') this.settle(id, Verdicts.deny(new GatewayError('QG_APPROVAL_EXPIRED', `querygate: approval request ${id} expired (${reason})`)));
    }
  }

  /** Audits and notifies a final transition this replica made. */
  private decided(request: ApprovalRequest): void {
    const decision = request.status as 'approved' | 'denied' | 'expired' | 'cancelled';
    const approver = request.decidedBy?.join(', ');
    this.deps.audit({
      event: 'approval.decided',
      sessionId: request.sessionId,
      identity: request.requester,
      fingerprint: request.statement.fingerprint,
      rule: request.rule,
      approval: { requestId: request.id, decision, ...(approver ? { approver } : {}), ...(request.reason ? { reason: request.reason } : {}) },
    });
    this.deps.logger.info('approval decided', { requestId: request.id, decision, approver, grant: request.grant?.scope });
    this.deps.notifier?.notify('decided', request);
  }

  private onChange(request: ApprovalRequest): void {
    if (request.status === 'pending' || !this.waiters.has(request.id)) return;
    this.settle(request.id, verdictFor(request));
  }

  private settle(id: string, decided: Decided): void {
    const waiter = this.waiters.get(id);
    if (!waiter) return;
    this.waiters.delete(id);
    clearTimeout(waiter.timer);
    waiter.unwatch();
    waiter.resolve(decided);
  }

  /** Expires overdue pending requests (reject-and-retry ones have no session timer). */
  private async sweep(): Promise<void> {
    if (this.sweeping || this.stopped) return;
    this.sweeping = true;
    try {
      const now = this.now();
      const pending = await this.deps.store.list({ status: ['pending'], limit: 1000 });
      for (const request of pending) {
        if (Date.parse(request.expiresAt) <= now) await this.finish(request.id, 'expired', `no decision within ${formatDuration(Date.parse(request.expiresAt) - Date.parse(request.createdAt))}`);
      }
    } catch (err) {
      this.deps.logger.warn('approval sweep failed', { error: (err as Error).message });
    } finally {
      this.sweeping = false;
    }
  }

  private track<T>(task: Promise<T>): Promise<T> {
    this.tasks.add(task);
    void task.finally(() => this.tasks.delete(task)).catch(() => undefined);
    return task;
  }

  /**
   * Runs after sessions ended (their holds were cancelled). Settles any waiter left, and waits for
   * store writes in flight so the store can close. Idempotent.
   */
  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.sweepTimer);
    for (const id of [...this.waiters.keys()]) await this.finish(id, 'cancelled', 'gateway shutting down');
    for (const id of [...this.waiters.keys()]) {
      this.settle(id, Verdicts.deny(new GatewayError('QG_SHUTTING_DOWN')));
    }
    await Promise.allSettled([...this.tasks]);
    this.unsubscribe?.();
  }
}

/** What a waiting session is told once its request is decided. */
export function verdictFor(request: ApprovalRequest): Decided {
  const rule = request.rule;
  switch (request.status) {
    case 'approved':
      return Verdicts.allow();
    case 'denied':
      return Verdicts.deny(new GatewayError('QG_APPROVAL_DENIED',
        `querygate: approval request ${request.id} was denied by ${request.decidedBy?.join(', ') ?? 'an approver'}: ${request.reason ?? 'no reason given'}`, { rule }));
    case 'expired':
      return Verdicts.deny(new GatewayError('QG_APPROVAL_EXPIRED',
        `querygate: approval request ${request.id} expired: nobody decided within ${formatDuration(Date.parse(request.expiresAt) - Date.parse(request.createdAt))}`, { rule }));
    default:
      return Verdicts.deny(new GatewayError('QG_APPROVAL_DENIED',
        `querygate: approval request ${request.id} was ${request.status}: ${request.reason ?? 'no reason given'}`, { rule }));
  }
}
