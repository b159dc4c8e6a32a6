import type { AuthMethod } from '../Identity';
import type { Protocol } from '../Session';
import type { StatementKind } from '../Statement';

/** Bumped on any incompatible change of the record shapes below. */
export const RECORDING_FORMAT = 1;

/** `prev` of a recording's first line. */
export const GENESIS_HASH = '0'.repeat(64);

export type StatementTextMode = 'raw' | 'normalized';

interface Chained {
  /** Line number within the file, from 0 (the header). */
  readonly seq: number;
  /** Milliseconds since the session started. */
  readonly t: number;
  /** Hash of the previous line ({@link GENESIS_HASH} for the header). */
  readonly prev: string;
}

/** Line 0: who, where, when, and how the rest was recorded. */
export interface SessionHeaderRecord extends Chained {
  readonly type: 'session';
  readonly format: typeof RECORDING_FORMAT;
  readonly sessionId: string;
  readonly gateway: string;
  /** ISO 8601, UTC. */
  readonly startedAt: string;
  readonly protocol: Protocol;
  readonly listener: string;
  readonly database: string;
  readonly clientAddress: string;
  readonly tls: boolean;
  readonly identity: {
    readonly subject: string;
    readonly groups: readonly string[];
    readonly method: AuthMethod;
    readonly issuer?: string;
  };
  /** Startup parameters the client sent (user, application_name...): claims, not identity. */
  readonly clientParameters: Readonly<Record<string, string>>;
  readonly statementText: StatementTextMode;
  readonly maxRowsPerResult: number;
}

/** A statement the client sent, before judging. `n` numbers statements within the session. */
export interface StatementRecord extends Chained {
  readonly type: 'statement';
  readonly n: number;
  /** `statement.normalized` (literals replaced), or the client's text with `statementText: raw`. */
  readonly text: string;
  readonly kind: StatementKind;
  readonly command: string;
  readonly fingerprint: string;
  readonly via: 'simple' | 'prepare' | 'execute' | 'function_call';
  /** Bind parameters in text form; only with `statementText: raw` (they are literals too). */
  readonly parameters?: readonly (string | null)[];
  /** The statement this one is nested in (a DO body, a PREPARE's statement...). */
  readonly parent?: number;
}

export interface VerdictRecord extends Chained {
  readonly type: 'verdict';
  readonly n: number;
  readonly verdict: 'allow' | 'deny' | 'hold';
  readonly rule?: string;
  readonly error?: { readonly code: string; readonly message: string };
  /** What a hold told the client. */
  readonly notice?: string;
}

/** One result set as the client received it: column names and the first rows, AFTER masking. */
export interface ResultRecord extends Chained {
  readonly type: 'result';
  readonly n: number;
  readonly columns: readonly string[];
  /** Values in text form, NULL as null; at most `maxRowsPerResult` rows. */
  readonly rows: readonly (readonly (string | null)[])[];
  /** True when the result had more rows than were recorded (or rows were not observed). */
  readonly truncated?: boolean;
  /** The plan that rewrote values (`masking`), when one did. */
  readonly plan?: string;
  /** Indexes of columns the plan rewrote. */
  readonly masked?: readonly number[];
}

export interface CompleteRecord extends Chained {
  readonly type: 'complete';
  readonly n: number;
  readonly rows?: number;
  readonly durationMs: number;
  readonly error?: { readonly code: string; readonly message: string };
  readonly masked?: { readonly columns: readonly string[]; readonly values: number };
}

/** Something else the client was told: a server notice or warning, an error outside a statement. */
export interface EventRecord extends Chained {
  readonly type: 'event';
  readonly kind: 'notice' | 'warning' | 'error';
  readonly message: string;
  readonly code?: string;
  readonly n?: number;
}

/** The last line of a recording whose session ended cleanly. */
export interface EndRecord extends Chained {
  readonly type: 'end';
  readonly reason: 'client_closed' | 'upstream_closed' | 'error' | 'shutdown' | 'refused';
  readonly statements: number;
  readonly denied: number;
  readonly durationMs: number;
  /** Records dropped because the recording fell behind or failed (0 when complete). */
  readonly dropped: number;
}

export type RecordingRecord =
  | SessionHeaderRecord | StatementRecord | VerdictRecord | ResultRecord | CompleteRecord | EventRecord | EndRecord;

/** A record before the chain fields are filled in by the writer. */
export type UnchainedRecord = RecordingRecord extends infer R
  ? R extends RecordingRecord ? Omit<R, 'seq' | 'prev'> : never
  : never;
