import { grantKeyOf, sameKey, type ApprovalRequest, type GrantKey } from './ApprovalRequest';

/** Why a change was refused; `status` is the admin API's HTTP status for it. */
export interface Refusal {
  readonly refused: true;
  readonly status: 403 | 404 | 409;
  readonly code: 'not_found' | 'already_decided' | 'expired' | 'self_approval' | 'already_voted' | 'not_approver' | 'grant_used';
  readonly message: string;
}

export function refusal(status: Refusal['status'], code: Refusal['code'], message: string): Refusal {
  return { refused: true, status, code, message };
}

export function isRefusal(value: unknown): value is Refusal {
  return typeof value === 'object' && value !== null && (value as Refusal).refused === true;
}

/** Who acts on a request through the admin API. */
export interface Approver {
  readonly subject: string;
  readonly groups: readonly string[];
  /** How the approver authenticated: `jwt` or `basic`. */
  readonly method: 'jwt' | 'basic';
}

export interface VoteInput {
  readonly reason?: string;
  readonly windowMs?: number;
}

export interface VotePolicy {
  /** Grant length for a reject-and-retry approval that names no window (a one-shot grant). */
  readonly retryGrantMs: number;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function pendingOrRefusal(request: ApprovalRequest, now: number): Refusal | undefined {
  if (request.status !== 'pending') {
    return refusal(409, 'already_decided', `request ${request.id} is already ${request.status}`);
  }
  if (Date.parse(request.expiresAt) <= now) {
    return refusal(409, 'expired', `request ${request.id} expired at ${request.expiresAt}`);
  }
  return undefined;
}

/**
 * One approver says yes. The request is approved once `required` distinct approvers have; its
 * grant is the most conservative of the votes (any vote without a window: no window).
 */
export function castApproval(request: ApprovalRequest, approver: Approver, input: VoteInput, now: number, policy: VotePolicy): ApprovalRequest | Refusal {
  const closed = pendingOrRefusal(request, now);
  if (closed) return closed;
  if (approver.subject === request.requester.subject) {
    return refusal(403, 'self_approval', `${approver.subject} asked for request ${request.id} and cannot approve it`);
  }
  if (request.votes.some((v) => v.approver === approver.subject)) {
    return refusal(409, 'already_voted', `${approver.subject} has already approved request ${request.id}; it needs ${request.required} distinct approvers`);
  }
  const vote = { approver: approver.subject, at: iso(now), ...(input.reason ? { reason: input.reason } : {}), ...(input.windowMs ? { windowMs: input.windowMs } : {}) };
  const votes = [...request.votes, vote];
  if (votes.length < request.required) {
    return { ...request, version: request.version + 1, votes };
  }
  const windows = votes.map((v) => v.windowMs);
  const windowMs = windows.every((w): w is number => w !== undefined) ? Math.min(...windows) : undefined;
  const grant = windowMs !== undefined
    ? { scope: 'window' as const, until: iso(now + windowMs) }
    : request.mode === 'reject-and-retry' ? { scope: 'once' as const, until: iso(now + policy.retryGrantMs) } : undefined;
  const reasons = votes.map((v) => v.reason).filter((r): r is string => !!r);
  return {
    ...request,
    version: request.version + 1,
    votes,
    status: 'approved',
    decidedAt: iso(now),
    decidedBy: votes.map((v) => v.approver),
    ...(reasons.length > 0 ? { reason: reasons.join('; ') } : {}),
    ...(grant ? { grant } : {}),
  };
}

/** One approver says no: that alone denies the request. */
export function castDenial(request: ApprovalRequest, approver: Approver, reason: string, now: number): ApprovalRequest | Refusal {
  const closed = pendingOrRefusal(request, now);
  if (closed) return closed;
  return { ...request, version: request.version + 1, status: 'denied', decidedAt: iso(now), decidedBy: [approver.subject], reason };
}

/** The gateway closes a pending request: its timeout passed, or the waiting client went away. */
export function close(request: ApprovalRequest, status: 'expired' | 'cancelled', reason: string, now: number): ApprovalRequest | Refusal {
  if (request.status !== 'pending') {
    return refusal(409, 'already_decided', `request ${request.id} is already ${request.status}`);
  }
  return { ...request, version: request.version + 1, status, decidedAt: iso(now), decidedBy: ['querygate'], reason };
}

/** Whether an approved request's grant lets `key` through at `now`. */
export function grantCovers(request: ApprovalRequest, key: GrantKey, now: number): boolean {
  const grant = request.grant;
  if (request.status !== 'approved' || !grant) return false;
  if (Date.parse(grant.until) <= now) return false;
  if (grant.scope === 'once' && grant.consumedAt) return false;
  return sameKey(grantKeyOf(request), key);
}

/** Uses a one-shot grant. */
export function consumeGrant(request: ApprovalRequest, key: GrantKey, now: number): ApprovalRequest | Refusal {
  if (!grantCovers(request, key, now) || request.grant?.scope !== 'once') {
    return refusal(409, 'grant_used', `the grant of request ${request.id} is used or no longer valid`);
  }
  return { ...request, version: request.version + 1, grant: { ...request.grant, consumedAt: iso(now) } };
}
