// Wire vocabulary of the PostgreSQL v3 protocol. Plain objects rather than `const enum` so that
// per-file transpilers (swc) inline-free builds keep working; V8 folds the constant loads anyway.

/** Message types a client (frontend) sends after startup. */
export const Frontend = {
  Bind: 0x42, // B
  Close: 0x43, // C
  CopyData: 0x64, // d
  CopyDone: 0x63, // c
  CopyFail: 0x66, // f
  Describe: 0x44, // D
  Execute: 0x45, // E
  Flush: 0x48, // H
  FunctionCall: 0x46, // F
  Parse: 0x50, // P
  Password: 0x70, // p (also SASLInitialResponse, SASLResponse, GSSResponse)
  Query: 0x51, // Q
  Sync: 0x53, // S
  Terminate: 0x58, // X
} as const;

/** Message types a server (backend) sends. */
export const Backend = {
  Authentication: 0x52, // R
  BackendKeyData: 0x4b, // K
  BindComplete: 0x32, // 2
  CloseComplete: 0x33, // 3
  CommandComplete: 0x43, // C
  CopyData: 0x64, // d
  CopyDone: 0x63, // c
  CopyInResponse: 0x47, // G
  CopyOutResponse: 0x48, // H
  CopyBothResponse: 0x57, // W
  DataRow: 0x44, // D
  EmptyQueryResponse: 0x49, // I
  ErrorResponse: 0x45, // E
  FunctionCallResponse: 0x56, // V
  NegotiateProtocolVersion: 0x76, // v
  NoData: 0x6e, // n
  NoticeResponse: 0x4e, // N
  NotificationResponse: 0x41, // A
  ParameterDescription: 0x74, // t
  ParameterStatus: 0x53, // S
  ParseComplete: 0x31, // 1
  PortalSuspended: 0x73, // s
  ReadyForQuery: 0x5a, // Z
  RowDescription: 0x54, // T
} as const;

/** Codes of the untagged messages a connection may start with. */
export const StartupCode = {
  ProtocolV3: 196608, // 3.0
  SSLRequest: 80877103,
  GSSENCRequest: 80877104,
  CancelRequest: 80877102,
} as const;

/** Authentication request codes (the int32 after 'R'). */
export const AuthCode = {
  Ok: 0,
  CleartextPassword: 3,
  MD5Password: 5,
  SASL: 10,
  SASLContinue: 11,
  SASLFinal: 12,
} as const;

/** Startup packets larger than this are refused, as PostgreSQL does (MAX_STARTUP_PACKET_LENGTH). */
export const MAX_STARTUP_LENGTH = 10000;
/** Regular messages larger than this are a protocol violation (a garbage length header, usually). */
export const MAX_MESSAGE_LENGTH = 256 * 1024 * 1024;

/** What a connection's first packet asks for. */
export type StartupPacket =
  | { readonly kind: 'startup'; readonly version: number; readonly parameters: Readonly<Record<string, string>> }
  | { readonly kind: 'ssl' }
  | { readonly kind: 'gssenc' }
  | { readonly kind: 'cancel'; readonly processId: number; readonly secretKey: number };

export interface ParseMessage {
  readonly name: string;
  readonly query: string;
  readonly parameterTypes: readonly number[];
}

export interface BindMessage {
  readonly portal: string;
  readonly statement: string;
  readonly parameterFormats: readonly number[];
  readonly parameters: readonly (Buffer | null)[];
  readonly resultFormats: readonly number[];
}

/** Describe and Close both name a prepared statement ('S') or a portal ('P'). */
export interface TargetMessage {
  readonly target: 'S' | 'P';
  readonly name: string;
}

export interface ExecuteMessage {
  readonly portal: string;
  readonly maxRows: number;
}

export interface FunctionCallMessage {
  readonly functionOid: number;
  readonly argumentFormats: readonly number[];
  readonly arguments: readonly (Buffer | null)[];
  readonly resultFormat: number;
}

/** One RowDescription field. */
export interface FieldDescription {
  readonly name: string;
  readonly tableOid: number;
  readonly columnNumber: number;
  readonly typeOid: number;
  readonly typeSize: number;
  readonly typeModifier: number;
  readonly format: number;
}

/** ErrorResponse / NoticeResponse fields by their one-letter code (S, V, C, M, D, H...). */
export type ErrorFields = Readonly<Record<string, string>>;

export type AuthenticationRequest =
  | { readonly code: typeof AuthCode.Ok }
  | { readonly code: typeof AuthCode.CleartextPassword }
  | { readonly code: typeof AuthCode.MD5Password; readonly salt: Buffer }
  | { readonly code: typeof AuthCode.SASL; readonly mechanisms: readonly string[] }
  | { readonly code: typeof AuthCode.SASLContinue; readonly data: Buffer }
  | { readonly code: typeof AuthCode.SASLFinal; readonly data: Buffer }
  | { readonly code: number };
