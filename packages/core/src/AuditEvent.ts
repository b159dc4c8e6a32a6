import type { AuthMethod } from './Identity';
import type { Protocol } from './Session';
import type { RiskFlag, StatementKind } from './Statement';

/** Bumped on any incompatible change; docs/audit-event.schema.json has the same number. */
export const AUDIT_SCHEMA_VERSION = 1;

export type AuditEventType =
  | 'session.started'
  | 'session.ended'
  | 'session.refused'
  | 'auth.failed'
  /** The token-exchange endpoint minted a short-lived credential for an OIDC identity. */
  | 'credential.issued'
  | 'statement.allowed'
  | 'statement.denied'
  | 'statement.held'
  | 'statement.completed'
  | 'approval.requested'
  | 'approval.decided'
  | 'masking.applied';

/**
 * One audit record. Field names are stable (SIEMs parse them); new fields are optional.
 * Never carries result values, passwords or tokens; statement text is literal-normalised.
 */
export interface AuditEvent {
  readonly schemaVersion: typeof AUDIT_SCHEMA_VERSION;
  readonly event: AuditEventType;
  /** ISO 8601 with milliseconds, UTC. */
  readonly time: string;
  /** Unique per event (dedupe key for consumers). */
  readonly id: string;
  readonly sessionId: string;
  /** Position of the event within its session, from 1: consumers check order and gaps. */
  readonly seq: number;
  readonly gateway: string;
  readonly listener?: string;
  readonly protocol?: Protocol;
  readonly database?: string;
  readonly clientAddress?: string;
  readonly identity?: {
    readonly subject: string;
    readonly groups: readonly string[];
    readonly method: AuthMethod;
    readonly issuer?: string;
  };
  /** The user name the client claimed, for auth.failed / session.refused. */
  readonly claimedUser?: string;
  readonly statement?: {
    readonly text: string;
    readonly kind: StatementKind;
    readonly command: string;
    readonly objects: readonly string[];
    readonly risks: readonly RiskFlag[];
  };
  readonly fingerprint?: string;
  readonly verdict?: 'allow' | 'deny' | 'hold';
  readonly rule?: string;
  readonly rows?: number;
  readonly durationMs?: number;
  readonly error?: { readonly code: string; readonly message: string };
  /** masking.applied: which columns were rewritten and how many values. */
  readonly masking?: { readonly columns: readonly string[]; readonly values: number };
  /** approval.*: request id, decision, approver. */
  readonly approval?: {
    readonly requestId: string;
    readonly decision?: 'approved' | 'denied' | 'expired' | 'cancelled';
    readonly approver?: string;
    readonly reason?: string;
  };
}
