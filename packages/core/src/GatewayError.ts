/**
 * The one table of errors querygate sends to clients. Every row carries what each protocol needs:
 * a PostgreSQL SQLSTATE and severity, a MySQL errno and SQLSTATE. docs/errors.md documents the same
 * rows (a test keeps the two in step).
 */
export const ErrorTable = {
  QG_AUTH_FAILED: {
    sqlstate: '28P01', severity: 'FATAL', mysqlErrno: 1045, mysqlSqlState: '28000',
    message: 'authentication failed',
    fix: 'Check the user name and password, or present a valid OIDC token as the password.',
  },
  QG_ACCESS_DENIED: {
    sqlstate: '28000', severity: 'FATAL', mysqlErrno: 1044, mysqlSqlState: '42000',
    message: 'access to this listener or database is not allowed for this identity',
    fix: 'Ask an operator to grant one of your groups access in the config key `access`.',
  },
  QG_TLS_REQUIRED: {
    sqlstate: '28000', severity: 'FATAL', mysqlErrno: 3159, mysqlSqlState: 'HY000',
    message: 'this listener requires TLS',
    fix: 'Connect with TLS (sslmode=require, --ssl) or set listeners[].tls.require to false.',
  },
  QG_STATEMENT_DENIED: {
    sqlstate: '42501', severity: 'ERROR', mysqlErrno: 1142, mysqlSqlState: '42000',
    message: 'statement refused by policy',
    fix: 'The message names the rule. Change the statement, or ask for the rule to be changed or for approval.',
  },
  QG_APPROVAL_DENIED: {
    sqlstate: '42501', severity: 'ERROR', mysqlErrno: 1142, mysqlSqlState: '42000',
    message: 'statement denied by an approver',
    fix: 'The message carries the approver\'s reason.',
  },
  QG_APPROVAL_EXPIRED: {
    sqlstate: '42501', severity: 'ERROR', mysqlErrno: 1142, mysqlSqlState: '42000',
    message: 'approval request expired before anyone decided',
    fix: 'Run the statement again to create a new request, or raise the approval timeout.',
  },
  QG_APPROVAL_PENDING: {
    sqlstate: '42501', severity: 'ERROR', mysqlErrno: 1142, mysqlSqlState: '42000',
    message: 'statement needs approval; a request was created',
    fix: 'Retry after an approver has approved the request named in the message.',
  },
  QG_MASKING_UNRESOLVED: {
    sqlstate: '42501', severity: 'ERROR', mysqlErrno: 1142, mysqlSqlState: '42000',
    message: 'statement reads sensitive columns in a way the gateway cannot mask',
    fix: 'Select the sensitive columns directly, or ask for an exemption.',
  },
  QG_LOCAL_INFILE_REFUSED: {
    sqlstate: '42501', severity: 'ERROR', mysqlErrno: 1148, mysqlSqlState: '42000',
    message: 'LOAD DATA LOCAL INFILE is not allowed through querygate',
    fix: 'Load the file from the database server side, or insert the rows with INSERT statements.',
  },
  QG_HOOK_FAILED: {
    sqlstate: 'XX000', severity: 'ERROR', mysqlErrno: 1105, mysqlSqlState: 'HY000',
    message: 'a policy hook failed, so the statement was refused',
    fix: 'See the gateway log for the hook\'s error (the statement is refused to fail closed).',
  },
  QG_HOOK_TIMEOUT: {
    sqlstate: '57014', severity: 'ERROR', mysqlErrno: 1317, mysqlSqlState: '70100',
    message: 'a policy hook did not answer in time, so the statement was refused',
    fix: 'Raise pipeline.hookTimeout or fix the slow plugin.',
  },
  QG_QUEUE_FULL: {
    sqlstate: '53400', severity: 'ERROR', mysqlErrno: 1041, mysqlSqlState: 'HY000',
    message: 'too many messages are waiting behind a held statement',
    fix: 'Wait for the held statement to be decided before sending more, or raise pipeline.maxQueuedMessages.',
  },
  QG_AUDIT_UNAVAILABLE: {
    sqlstate: '58000', severity: 'ERROR', mysqlErrno: 1105, mysqlSqlState: 'HY000',
    message: 'audit cannot be written, and strict audit mode refuses statements meanwhile',
    fix: 'Restore the audit sink (Kafka or its spool directory).',
  },
  QG_PROTOCOL_VIOLATION: {
    sqlstate: '08P01', severity: 'FATAL', mysqlErrno: 1835, mysqlSqlState: 'HY000',
    message: 'protocol violation',
    fix: 'The client sent a malformed or unexpected message; use a conforming driver.',
  },
  QG_FEATURE_NOT_SUPPORTED: {
    sqlstate: '0A000', severity: 'FATAL', mysqlErrno: 1235, mysqlSqlState: '42000',
    message: 'this protocol feature is not supported by querygate',
    fix: 'The message names the feature; disable it in the client.',
  },
  QG_TOO_MANY_CONNECTIONS: {
    sqlstate: '53300', severity: 'FATAL', mysqlErrno: 1040, mysqlSqlState: '08004',
    message: 'too many connections',
    fix: 'Raise listeners[].maxConnections or use fewer connections.',
  },
  QG_UPSTREAM_UNAVAILABLE: {
    sqlstate: '08001', severity: 'FATAL', mysqlErrno: 2003, mysqlSqlState: 'HY000',
    message: 'cannot connect to the upstream database',
    fix: 'Check listeners[].upstream (host, port, TLS) and that the database is running.',
  },
  QG_UPSTREAM_REJECTED: {
    sqlstate: '08004', severity: 'FATAL', mysqlErrno: 2003, mysqlSqlState: 'HY000',
    message: 'the upstream database refused querygate\'s own login',
    fix: 'Check listeners[].upstream.user and its password secret.',
  },
  QG_UPSTREAM_LOST: {
    sqlstate: '08006', severity: 'FATAL', mysqlErrno: 2013, mysqlSqlState: 'HY000',
    message: 'the connection to the upstream database was lost',
    fix: 'See the database server log; the session must reconnect.',
  },
  QG_SHUTTING_DOWN: {
    sqlstate: '57P01', severity: 'FATAL', mysqlErrno: 1053, mysqlSqlState: '08S01',
    message: 'querygate is shutting down',
    fix: 'Reconnect; another replica or the restarted gateway will serve you.',
  },
  QG_INTERNAL: {
    sqlstate: 'XX000', severity: 'ERROR', mysqlErrno: 1105, mysqlSqlState: 'HY000',
    message: 'internal gateway error',
    fix: 'See the gateway log; report it with the session id.',
  },
} as const satisfies Record<string, ErrorRow>;

export interface ErrorRow {
  /** PostgreSQL SQLSTATE sent in ErrorResponse. */
  readonly sqlstate: string;
  /** FATAL ends the session; ERROR ends only the statement. */
  readonly severity: 'ERROR' | 'FATAL';
  readonly mysqlErrno: number;
  readonly mysqlSqlState: string;
  /** Default client-facing text. */
  readonly message: string;
  /** One line for docs/errors.md: how to fix it. */
  readonly fix: string;
}

export type GatewayErrorCode = keyof typeof ErrorTable;

export interface GatewayErrorOptions {
  /** Client-facing detail (PostgreSQL DETAIL field; appended for MySQL). */
  readonly detail?: string;
  readonly hint?: string;
  /** Name of the policy rule that produced this error, for the client and the audit event. */
  readonly rule?: string;
  readonly cause?: unknown;
}

/**
 * An error meant for the client. Adapters serialize it into ErrorResponse / ERR packets; any other
 * error is logged and reaches the client as QG_INTERNAL with no internals.
 */
export class GatewayError extends Error {
  readonly code: GatewayErrorCode;
  readonly row: ErrorRow;
  readonly detail: string | undefined;
  readonly hint: string | undefined;
  readonly rule: string | undefined;

  constructor(code: GatewayErrorCode, message?: string, options: GatewayErrorOptions = {}) {
    super(message ?? ErrorTable[code].message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.row = ErrorTable[code];
    this.detail = options.detail;
    this.hint = options.hint;
    this.rule = options.rule;
  }

  get sqlstate(): string { return this.row.sqlstate; }
  get severity(): 'ERROR' | 'FATAL' { return this.row.severity; }
  get mysqlErrno(): number { return this.row.mysqlErrno; }
  get mysqlSqlState(): string { return this.row.mysqlSqlState; }

  /** Any thrown value as a GatewayError fit for a client: foreign errors become QG_INTERNAL. */
  static from(err: unknown, code: GatewayErrorCode = 'QG_INTERNAL'): GatewayError {
    if (err instanceof GatewayError) return err;
    return new GatewayError(code, undefined, { cause: err });
  }
}
