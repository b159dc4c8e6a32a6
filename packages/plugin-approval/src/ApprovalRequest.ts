import type { AuthMethod, Protocol } from '@querygate/core';

/**
 * pending → approved | denied | expired | cancelled. Only `pending` moves; every other status is
 * final (docs/approvals.md has the diagram).
 */
export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'cancelled';
export const APPROVAL_STATUSES: readonly ApprovalStatus[] = ['pending', 'approved', 'denied', 'expired', 'cancelled'];

/**
 * `hold`: a session waits on the wire for the decision. `reject-and-retry`: the client got an
 * error at once and retries after approval; nobody waits.
 */
export type ApprovalMode = 'hold' | 'reject-and-retry';

/** One approver's yes. A request with `required` > 1 collects several from distinct approvers. */
export interface ApprovalVote {
  readonly approver: string;
  readonly at: string;
  readonly reason?: string;
  /** The window this approver granted, in milliseconds; absent: this statement only. */
  readonly windowMs?: number;
}

/**
 * What an approval lets through besides the statement that asked:
 * `window`: the same fingerprint by the same identity on the same listener and database, until `until`;
 * `once`: (reject-and-retry) the first such retry before `until`, which consumes it.
 */
export interface ApprovalGrant {
  readonly scope: 'window' | 'once';
  readonly until: string;
  /** When a `once` grant was used. */
  readonly consumedAt?: string;
}

/** An approval request as stored and as the admin API returns it. Dates are ISO 8601 strings. */
export interface ApprovalRequest {
  readonly id: string;
  /** Bumped on every change; replicas use it to ignore stale notifications. */
  readonly version: number;
  /** `gateway.id` of the replica that created it (and, in hold mode, holds the session). */
  readonly gateway: string;
  readonly mode: ApprovalMode;
  readonly status: ApprovalStatus;
  readonly sessionId: string;
  readonly requester: {
    readonly subject: string;
    readonly groups: readonly string[];
    readonly method: AuthMethod;
    readonly issuer?: string;
  };
  readonly listener: string;
  readonly protocol: Protocol;
  readonly database: string;
  readonly clientAddress?: string;
  readonly statement: {
    /** As the client sent it: approvers must see what they approve. */
    readonly text: string;
    readonly fingerprint: string;
    readonly kind: string;
    readonly command: string;
    /** Bind / COM_STMT_EXECUTE parameters in text form, when the statement ran with parameters. */
    readonly parameters?: readonly (string | null)[];
  };
  readonly rule: string;
  /** Why the rule wants approval (the rule's message). */
  readonly message: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  /** Distinct approvers needed. */
  readonly required: number;
  readonly votes: readonly ApprovalVote[];
  readonly decidedAt?: string;
  /** Who decided: the approvers (approved), the approver (denied), or `querygate` (expired, cancelled). */
  readonly decidedBy?: readonly string[];
  readonly reason?: string;
  readonly grant?: ApprovalGrant;
}

/** The identity → statement key a grant covers. */
export interface GrantKey {
  readonly subject: string;
  readonly fingerprint: string;
  readonly listener: string;
  readonly database: string;
}

export function grantKeyOf(request: ApprovalRequest): GrantKey {
  return {
    subject: request.requester.subject,
    fingerprint: request.statement.fingerprint,
    listener: request.listener,
    database: request.database,
  };
}

export function sameKey(a: GrantKey, b: GrantKey): boolean {
  return a.subject === b.subject && a.fingerprint === b.fingerprint && a.listener === b.listener && a.database === b.database;
}

export function isFinal(status: ApprovalStatus): boolean {
  return status !== 'pending';
}
