// Bytes to messages. Every decoder takes one payload (no header) and throws MalformedPacket.
import { readBinaryValue } from './binaryValues';
import { Capability, Header } from './constants';
import type {
  AuthSwitchRequest, ChangeUser, ColumnDefinition, EofPacket, ErrPacket, HandshakeResponse41, HandshakeV10,
  OkPacket, ParamType, SslRequest, StmtExecute, StmtPrepareOk,
} from './messages';
import { MalformedPacket, PayloadReader } from './PayloadReader';

export function parseHandshakeV10(payload: Buffer): HandshakeV10 {
  const r = new PayloadReader(payload);
  const protocolVersion = r.u8();
  if (protocolVersion === Header.ERR) throw new MalformedPacket('server sent an error instead of a handshake');
  if (protocolVersion !== 10) throw new MalformedPacket(`unsupported handshake protocol version ${protocolVersion}`);
  const serverVersion = r.nulString();
  const connectionId = r.u32();
  const part1 = r.bytes(8);
  r.skip(1);
  let capabilities = r.u16();
  let charset = 0;
  let status = 0;
  let authDataLength = 0;
  let part2: Buffer = Buffer.alloc(0);
  let authPluginName = 'mysql_native_password';
  if (!r.done) {
    charset = r.u8();
    status = r.u16();
    capabilities |= r.u16() << 16;
    capabilities >>>= 0;
    authDataLength = r.u8();
    r.skip(10);
    if (capabilities & Capability.SECURE_CONNECTION) {
      const n = Math.max(13, authDataLength - 8);
      part2 = r.bytes(Math.min(n, r.remaining));
      if (part2.length > 0 && part2[part2.length - 1] === 0) part2 = part2.subarray(0, part2.length - 1);
    }
    if (capabilities & Capability.PLUGIN_AUTH && !r.done) {
      const rest = r.rest();
      const end = rest.indexOf(0);
      authPluginName = (end < 0 ? rest : rest.subarray(0, end)).toString('utf8');
    }
  }
  return {
    protocolVersion, serverVersion, connectionId, scramble: Buffer.concat([part1, part2]),
    capabilities, charset, status, authPluginName,
  };
}

/** True for the payload of an SSLRequest (a truncated handshake response asking for TLS). */
export function isSslRequest(payload: Buffer): boolean {
  return payload.length === 32 && (payload.readUInt32LE(0) & Capability.SSL) !== 0;
}

export function parseSslRequest(payload: Buffer): SslRequest {
  const r = new PayloadReader(payload);
  return { capabilities: r.u32(), maxPacketSize: r.u32(), charset: r.u8() };
}

function parseAttributes(r: PayloadReader): Record<string, string> {
  const attributes: Record<string, string> = {};
  const total = r.lenenc();
  if (total > r.remaining) throw new MalformedPacket('connection attributes longer than the packet');
  const end = r.offset + total;
  while (r.offset < end) {
    const key = r.lenencString();
    const value = r.lenencString();
    attributes[key] = value;
  }
  if (r.offset !== end) throw new MalformedPacket('connection attributes overrun');
  return attributes;
}

export function parseHandshakeResponse41(payload: Buffer): HandshakeResponse41 {
  const r = new PayloadReader(payload);
  const capabilities = r.u32();
  if (!(capabilities & Capability.PROTOCOL_41)) throw new MalformedPacket('client does not speak protocol 4.1');
  const maxPacketSize = r.u32();
  const charset = r.u8();
  r.skip(23);
  const user = r.nulString();
  let authResponse: Buffer;
  if (capabilities & Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA) authResponse = r.lenencBytes();
  else if (capabilities & Capability.SECURE_CONNECTION) authResponse = r.bytes(r.u8());
  else authResponse = r.nulBytes();
  let database: string | undefined;
  if (capabilities & Capability.CONNECT_WITH_DB && !r.done) database = r.nulString();
  let authPluginName: string | undefined;
  if (capabilities & Capability.PLUGIN_AUTH && !r.done) authPluginName = r.nulString();
  const attributes = capabilities & Capability.CONNECT_ATTRS && !r.done ? parseAttributes(r) : {};
  return { capabilities, maxPacketSize, charset, user, authResponse, database: database || undefined, authPluginName, attributes };
}

export function parseChangeUser(payload: Buffer, capabilities: number): ChangeUser {
  const r = new PayloadReader(payload, 1);
  const user = r.nulString();
  const authResponse = capabilities & Capability.SECURE_CONNECTION ? r.bytes(r.u8()) : r.nulBytes();
  const database = r.done ? '' : r.nulString();
  let charset: number | undefined;
  let authPluginName: string | undefined;
  let attributes: Record<string, string> = {};
  if (r.remaining >= 2) {
    charset = r.u16();
    if (capabilities & Capability.PLUGIN_AUTH && !r.done) authPluginName = r.nulString();
    if (capabilities & Capability.CONNECT_ATTRS && !r.done) attributes = parseAttributes(r);
  }
  return { user, authResponse, database, charset, authPluginName, attributes };
}

export function parseOk(payload: Buffer): OkPacket {
  const r = new PayloadReader(payload, 1);
  const affectedRows = r.lenenc();
  const lastInsertId = r.lenenc();
  const status = r.remaining >= 2 ? r.u16() : 0;
  const warnings = r.remaining >= 2 ? r.u16() : 0;
  const info = r.done ? '' : r.rest().toString('utf8');
  return { affectedRows, lastInsertId, status, warnings, info };
}

export function parseErr(payload: Buffer): ErrPacket {
  const r = new PayloadReader(payload, 1);
  const errno = r.u16();
  let sqlState = 'HY000';
  if (!r.done && payload[r.offset] === 0x23 /* # */) {
    r.skip(1);
    sqlState = r.bytes(5).toString('latin1');
  }
  return { errno, sqlState, message: r.rest().toString('utf8') };
}

export function parseEof(payload: Buffer): EofPacket {
  const r = new PayloadReader(payload, 1);
  return { warnings: r.remaining >= 2 ? r.u16() : 0, status: r.remaining >= 2 ? r.u16() : 0 };
}

/** Status flags of an EOF packet, or of an OK packet (incl. OK-as-EOF with header 0xfe). */
export function statusOf(payload: Buffer): number {
  if (payload[0] === Header.EOF && payload.length < 9) return payload.length >= 5 ? payload.readUInt16LE(3) : 0;
  const r = new PayloadReader(payload, 1);
  r.lenenc();
  r.lenenc();
  return r.remaining >= 2 ? r.u16() : 0;
}

/** Rows affected, read from an OK packet without building the whole message. */
export function affectedRowsOf(payload: Buffer): number {
  const r = new PayloadReader(payload, 1);
  return r.lenenc();
}

export function parseAuthSwitchRequest(payload: Buffer): AuthSwitchRequest {
  const r = new PayloadReader(payload, 1);
  const pluginName = r.nulString();
  let data = r.rest();
  if (data.length > 0 && data[data.length - 1] === 0) data = data.subarray(0, data.length - 1);
  return { pluginName, data };
}

export function parseColumnDefinition(payload: Buffer): ColumnDefinition {
  const r = new PayloadReader(payload);
  const catalog = r.lenencString();
  const schema = r.lenencString();
  const table = r.lenencString();
  const orgTable = r.lenencString();
  const name = r.lenencString();
  const orgName = r.lenencString();
  const fixed = r.lenenc();
  if (fixed < 0x0c) throw new MalformedPacket('column definition fixed part too short');
  const charset = r.u16();
  const length = r.u32();
  const type = r.u8();
  const flags = r.u16();
  const decimals = r.u8();
  return { catalog, schema, table, orgTable, name, orgName, charset, length, type, flags, decimals };
}

export function parseStmtPrepareOk(payload: Buffer): StmtPrepareOk {
  const r = new PayloadReader(payload, 1);
  const statementId = r.u32();
  const columns = r.u16();
  const params = r.u16();
  r.skip(1);
  const warnings = r.remaining >= 2 ? r.u16() : 0;
  return { statementId, columns, params, warnings };
}

/** Statement id of a COM_STMT_* packet (EXECUTE, CLOSE, RESET, SEND_LONG_DATA, FETCH). */
export function statementIdOf(payload: Buffer): number {
  if (payload.length < 5) throw new MalformedPacket('truncated statement id');
  return payload.readUInt32LE(1);
}

export const LONG_DATA_TEXT = '<long data>';

/**
 * Parses COM_STMT_EXECUTE. `paramCount` comes from the prepare; `previousTypes` are the types
 * bound by an earlier execution (clients send types only when they change); `longData` are the
 * parameters that arrived by COM_STMT_SEND_LONG_DATA and so are absent from this packet.
 */
export function parseStmtExecute(
  payload: Buffer,
  paramCount: number,
  previousTypes: readonly ParamType[] | undefined,
  longData: ReadonlySet<number> = new Set(),
): StmtExecute {
  const r = new PayloadReader(payload, 1);
  const statementId = r.u32();
  const flags = r.u8();
  const iterationCount = r.u32();
  if (paramCount === 0) return { statementId, flags, iterationCount, newParamsBound: false, types: [], values: [] };
  const bitmap = r.bytes((paramCount + 7) >> 3);
  const newParamsBound = r.u8() === 1;
  let types: readonly ParamType[];
  if (newParamsBound) {
    const list: ParamType[] = [];
    for (let i = 0; i < paramCount; i++) {
      const type = r.u8();
      const flag = r.u8();
      list.push({ type, unsigned: (flag & 0x80) !== 0 });
    }
    types = list;
  } else {
    if (!previousTypes || previousTypes.length !== paramCount) throw new MalformedPacket('execute without parameter types');
    types = previousTypes;
  }
  const values: (string | null)[] = [];
  for (let i = 0; i < paramCount; i++) {
    if (bitmap[i >> 3]! & (1 << (i & 7))) { values.push(null); continue; }
    if (longData.has(i)) { values.push(LONG_DATA_TEXT); continue; }
    values.push(readBinaryValue(r, types[i]!));
  }
  return { statementId, flags, iterationCount, newParamsBound, types, values };
}
