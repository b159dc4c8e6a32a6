import type { StatementContext } from './Interceptor';
import { capability } from './Plugin';
import type { Statement } from './Statement';
import type { Deny, Hold } from './Verdict';

/** Why a statement needs approval: the rule that said so. */
export interface ApprovalReason {
  readonly rule: string;
  readonly message: string;
}

/**
 * The service the approval plugin provides. Guardrails (or any interceptor) hand it statements
 * whose rule says `approve`; it answers with a hold (wait for a decision), an allow through an
 * existing grant, or a deny (reject-and-retry mode).
 */
export interface ApprovalService {
  request(statement: Statement, context: StatementContext, reason: ApprovalReason): Hold | Deny | { readonly action: 'allow' } | Promise<Hold | Deny | { readonly action: 'allow' }>;
}

export const Approvals = capability<ApprovalService>('approvals');
