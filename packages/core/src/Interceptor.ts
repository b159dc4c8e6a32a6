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

/**
 * Experimental. An error (or notice) the database sent, as an error hook sees it: the SQLSTATE
 * (PostgreSQL) or errno (MySQL) and the text fields the client would get. PostgreSQL fills every
 * field it sent; MySQL has only `message`.
 */
export interface ServerError {
  readonly code: string;
  readonly message: string;
  readonly detail?: string;
  readonly hint?: string;
  /** PostgreSQL's CONTEXT (`W`): where the error arose (a function frame, a JSON excerpt...). */
  readonly where?: string;
}

/**
 * Experimental. An error hook's answer: it REPLACES the four text fields (a field left undefined is
 * dropped, so a hook cannot forget to redact one). The code is never changed.
 */
export interface ServerErrorText {
  readonly message: string;
  readonly detail?: string;
  readonly hint?: string;
  readonly where?: string;
}

/** What an error hook sees besides the error: the statement it answers, when the adapter knows it. */
export interface ErrorContext extends StatementContext {
  readonly statement?: Statement;
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
  /**
   * Experimental. Rewrites the text of a database error before the client, the audit trail or the
   * recording sees it (a server quotes the value that failed a cast, a duplicate key...). Runs in
   * result-hook order (reverse), each hook seeing the previous one's text, and synchronously: a
   * hook that throws (or answers with a promise) gets the whole text withheld (fail closed).
   * Undefined keeps the text.
   */
  onError?(error: ServerError, context: ErrorContext): ServerErrorText | undefined;
  onStatementComplete?(outcome: StatementOutcome, context: StatementContext): MaybePromise<void>;
  onSessionEnd?(session: Session, summary: SessionSummary): MaybePromise<void>;
  /** Idempotent. Called once at gateway shutdown after sessions have ended. */
  shutdown?(): Promise<void>;
}

export type { GatewayError };
