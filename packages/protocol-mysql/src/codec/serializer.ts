// Messages to bytes. Payload builders return payloads; `frame` adds the 4-byte headers.
import { Capability, Header, MAX_PACKET_PAYLOAD } from './constants';
import type { ColumnDefinition, ErrPacket, HandshakeResponse41, HandshakeV10, OkPacket, SslRequest } from './messages';
import { PayloadWriter } from './PayloadWriter';

/**
 * Frames one payload starting at sequence id `seq`, splitting it into 16 MB packets (a payload
 * that is an exact multiple of 16 MB ends with an empty packet). Returns the bytes and the next id.
 */
export function frame(payload: Buffer, seq: number): Buffer {
  if (payload.length < MAX_PACKET_PAYLOAD) {
    const out = Buffer.allocUnsafe(4 + payload.length);
    out.writeUIntLE(payload.length, 0, 3);
    out[3] = seq & 0xff;
    payload.copy(out, 4);
    return out;
  }
  const parts: Buffer[] = [];
  let offset = 0;
  let s = seq;
  for (;;) {
    const n = Math.min(MAX_PACKET_PAYLOAD, payload.length - offset);
    const header = Buffer.allocUnsafe(4);
    header.writeUIntLE(n, 0, 3);
    header[3] = s & 0xff;
    parts.push(header, payload.subarray(offset, offset + n));
    offset += n;
    s++;
    if (n < MAX_PACKET_PAYLOAD) break;
  }
  return Buffer.concat(parts);
}

/** How many physical packets `frame` produces for a payload of this length. */
export function packetCount(payloadLength: number): number {
  return Math.floor(payloadLength / MAX_PACKET_PAYLOAD) + 1;
}

export function handshakeV10(h: HandshakeV10): Buffer {
  const w = new PayloadWriter(128);
  w.u8(10).nulString(h.serverVersion).u32(h.connectionId);
  const scramble = h.scramble;
  w.bytes(scramble.subarray(0, 8)).u8(0);
  w.u16(h.capabilities & 0xffff).u8(h.charset).u16(h.status).u16((h.capabilities >>> 16) & 0xffff);
  w.u8(h.capabilities & Capability.PLUGIN_AUTH ? scramble.length + 1 : 0);
  w.zeros(10);
  if (h.capabilities & Capability.SECURE_CONNECTION) w.bytes(scramble.subarray(8)).u8(0);
  if (h.capabilities & Capability.PLUGIN_AUTH) w.nulString(h.authPluginName);
  return w.payload();
}

export function sslRequest(r: SslRequest): Buffer {
  return new PayloadWriter(32).u32(r.capabilities).u32(r.maxPacketSize).u8(r.charset).zeros(23).payload();
}

export function handshakeResponse41(r: HandshakeResponse41): Buffer {
  const w = new PayloadWriter(128);
  w.u32(r.capabilities).u32(r.maxPacketSize).u8(r.charset).zeros(23).nulString(r.user);
  if (r.capabilities & Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA) w.lenencBytes(r.authResponse);
  else w.u8(r.authResponse.length).bytes(r.authResponse);
  if (r.capabilities & Capability.CONNECT_WITH_DB) w.nulString(r.database ?? '');
  if (r.capabilities & Capability.PLUGIN_AUTH) w.nulString(r.authPluginName ?? '');
  if (r.capabilities & Capability.CONNECT_ATTRS) {
    const attrs = new PayloadWriter(64);
    for (const [k, v] of Object.entries(r.attributes)) attrs.lenencString(k).lenencString(v);
    w.lenencBytes(attrs.payload());
  }
  return w.payload();
}

export function okPacket(ok: Partial<OkPacket> & { readonly status: number }, header: number = Header.OK): Buffer {
  const w = new PayloadWriter(16);
  w.u8(header).lenenc(ok.affectedRows ?? 0).lenenc(ok.lastInsertId ?? 0).u16(ok.status).u16(ok.warnings ?? 0);
  if (ok.info) w.string(ok.info);
  return w.payload();
}

export function errPacket(err: ErrPacket): Buffer {
  return new PayloadWriter(16 + err.message.length)
    .u8(Header.ERR).u16(err.errno).u8(0x23).string(err.sqlState.padEnd(5, '0').slice(0, 5)).string(err.message)
    .payload();
}

export function eofPacket(status: number, warnings = 0): Buffer {
  return new PayloadWriter(5).u8(Header.EOF).u16(warnings).u16(status).payload();
}

export function authSwitchRequest(pluginName: string, data: Buffer): Buffer {
  return new PayloadWriter(32 + data.length).u8(Header.AUTH_SWITCH).nulString(pluginName).bytes(data).u8(0).payload();
}

export function authMoreData(data: Buffer): Buffer {
  return new PayloadWriter(1 + data.length).u8(Header.AUTH_MORE_DATA).bytes(data).payload();
}

export function columnDefinition(c: ColumnDefinition): Buffer {
  return new PayloadWriter(64)
    .lenencString(c.catalog).lenencString(c.schema).lenencString(c.table).lenencString(c.orgTable)
    .lenencString(c.name).lenencString(c.orgName)
    .lenenc(0x0c).u16(c.charset).u32(c.length).u8(c.type).u16(c.flags).u8(c.decimals).zeros(2)
    .payload();
}

/** A command with a text argument: COM_QUERY, COM_INIT_DB. */
export function textCommand(command: number, text: string): Buffer {
  const body = Buffer.from(text, 'utf8');
  const out = Buffer.allocUnsafe(1 + body.length);
  out[0] = command;
  body.copy(out, 1);
  return out;
}
