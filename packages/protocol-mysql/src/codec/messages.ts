// The messages querygate decodes or builds. Plain data; parser.ts and serializer.ts convert.

/** One logical packet: a payload (joined when it spanned several physical packets) and its bytes. */
export interface Packet {
  /** Sequence id of the first physical packet. */
  readonly seq: number;
  /** Sequence id of the last physical packet (== seq unless the payload was >= 16 MB). */
  readonly lastSeq: number;
  readonly payload: Buffer;
  /** The packet(s) exactly as they arrived, headers included: what gets forwarded unchanged. */
  readonly raw: Buffer;
}

/** Initial handshake packet, protocol version 10. */
export interface HandshakeV10 {
  readonly protocolVersion: number;
  readonly serverVersion: string;
  readonly connectionId: number;
  /** auth-plugin-data parts 1 and 2 joined (20 bytes for the usual plugins). */
  readonly scramble: Buffer;
  readonly capabilities: number;
  readonly charset: number;
  readonly status: number;
  readonly authPluginName: string;
}

/** Client's answer to the handshake (CLIENT_PROTOCOL_41). */
export interface HandshakeResponse41 {
  readonly capabilities: number;
  readonly maxPacketSize: number;
  readonly charset: number;
  readonly user: string;
  readonly authResponse: Buffer;
  readonly database?: string;
  readonly authPluginName?: string;
  readonly attributes: Readonly<Record<string, string>>;
}

/** The 32-byte packet a client sends instead of a handshake response to switch to TLS. */
export interface SslRequest {
  readonly capabilities: number;
  readonly maxPacketSize: number;
  readonly charset: number;
}

export interface OkPacket {
  readonly affectedRows: number;
  readonly lastInsertId: number;
  readonly status: number;
  readonly warnings: number;
  readonly info: string;
}

export interface ErrPacket {
  readonly errno: number;
  readonly sqlState: string;
  readonly message: string;
}

export interface EofPacket {
  readonly warnings: number;
  readonly status: number;
}

export interface AuthSwitchRequest {
  readonly pluginName: string;
  readonly data: Buffer;
}

/** Column definition (Protocol::ColumnDefinition41). */
export interface ColumnDefinition {
  readonly catalog: string;
  readonly schema: string;
  readonly table: string;
  readonly orgTable: string;
  readonly name: string;
  readonly orgName: string;
  readonly charset: number;
  readonly length: number;
  readonly type: number;
  readonly flags: number;
  readonly decimals: number;
}

export interface StmtPrepareOk {
  readonly statementId: number;
  readonly columns: number;
  readonly params: number;
  readonly warnings: number;
}

export interface ParamType {
  readonly type: number;
  readonly unsigned: boolean;
}

export interface StmtExecute {
  readonly statementId: number;
  readonly flags: number;
  readonly iterationCount: number;
  /** True when the packet carried parameter types (new-params-bound flag). */
  readonly newParamsBound: boolean;
  /** The types in effect for this execution (sent now, or remembered from the previous one). */
  readonly types: readonly ParamType[];
  /** Each parameter as text; null for NULL; `<long data>` for parameters sent with SEND_LONG_DATA. */
  readonly values: readonly (string | null)[];
}

export interface ChangeUser {
  readonly user: string;
  readonly authResponse: Buffer;
  readonly database: string;
  readonly charset?: number;
  readonly authPluginName?: string;
  readonly attributes: Readonly<Record<string, string>>;
}
