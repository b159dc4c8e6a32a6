import type { Allow, Deny, Verdict } from './Verdict';
import type { ResultSet, RowTransform } from './ResultSet';
import type { Session } from './Session';
import type { Statement } from './Statement';
import type { GatewayError } from './GatewayError';

type MaybePromise<T> = T | Promise<T>;

/** What a statement hook sees besides the Statement. */
export interface StatementContext {
  readonly session: Session;
  /** Bind / COM_STMT_EXECUTE parameters in text form, when the statement runs with parameters. */
  readonly parameters?: readonly (string | null)[];
  /** Where the statement came from on the wire. */
  readonly via: 'simple' | 'prepare' | 'execute' | 'function_call';
  /** Aborted when the client cancels, disconnects, or the hook times out. */
  readonly signal: AbortSignal;
}

export interface StatementOutcome {
  readonly statement: Statement;
  readonly verdict: 'allow' | 'deny';
  /** Rows returned or affected, when the database said. */
  readonly rows?: number;
  readonly durationMs: number;
  /** The database's error, or the gateway's refusal. */
  readonly error?: { readonly code: string; readonly message: string };
}

export interface SessionSummary {
  readonly statements: number;
  readonly denied: number;
  readonly durationMs: number;
  readonly reason: 'client_closed' | 'upstream_closed' | 'error' | 'shutdown' | 'refused';
}

/**
 * A plugin's hooks, each optional. Request hooks (onSessionStart, onStatement) run in configured
 * order and stop at the first deny; onResult runs in reverse order. Every hook is bounded by the
 * pipeline's timeout; a hook that throws or times out denies (fail closed) — except the
 * after-the-fact hooks (onStatementComplete, onSessionEnd), whose errors are logged.
 */
export interface Interceptor {
  /** Unique within a gateway; used in logs, audit `rule` fallbacks and ordering errors. */
  readonly name: string;
  onSessionStart?(session: Session): MaybePromise<Allow | Deny | void>;
  onStatement?(statement: Statement, context: StatementContext): MaybePromise<Verdict | void>;
  onResult?(result: ResultSet, context: StatementContext): MaybePromise<RowTransform | undefined | void>;
  onStatementComplete?(outcome: StatementOutcome, context: StatementContext): MaybePromise<void>;
  onSessionEnd?(session: Session, summary: SessionSummary): MaybePromise<void>;
  /** Idempotent. Called once at gateway shutdown after sessions have ended. */
  shutdown?(): Promise<void>;
}

export type { GatewayError };
