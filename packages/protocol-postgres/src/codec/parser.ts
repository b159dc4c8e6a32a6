import { GatewayError } from '@querygate/core';
import {
  AuthCode, StartupCode,
  type AuthenticationRequest, type BindMessage, type ErrorFields, type ExecuteMessage, type FieldDescription,
  type FunctionCallMessage, type ParseMessage, type StartupPacket, type TargetMessage,
} from './messages';

// Decoders for single messages. Each takes the buffer and the message's [bodyStart, end) as the
// Framer reports them, reads only what it needs, and throws QG_PROTOCOL_VIOLATION on a body that
// does not fit its own lengths.

function violation(what: string): GatewayError {
  return new GatewayError('QG_PROTOCOL_VIOLATION', `malformed ${what} message`);
}

/** Cursor over one message body. */
class BodyReader {
  constructor(private readonly buf: Buffer, public pos: number, private readonly end: number, private readonly what: string) {}

  int16(): number {
    if (this.pos + 2 > this.end) throw violation(this.what);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    if (this.pos + 4 > this.end) throw violation(this.what);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  byte(): number {
    if (this.pos >= this.end) throw violation(this.what);
    return this.buf[this.pos++]!;
  }

  cstring(): string {
    const zero = this.buf.indexOf(0, this.pos);
    if (zero < 0 || zero >= this.end) throw violation(this.what);
    const s = this.buf.toString('utf8', this.pos, zero);
    this.pos = zero + 1;
    return s;
  }

  bytes(n: number): Buffer {
    if (n < 0 || this.pos + n > this.end) throw violation(this.what);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** An int32 length then that many bytes; -1 is NULL. */
  value(): Buffer | null {
    const n = this.int32();
    if (n === -1) return null;
    return this.bytes(n);
  }

  rest(): Buffer { const b = this.buf.subarray(this.pos, this.end); this.pos = this.end; return b; }
  get done(): boolean { return this.pos >= this.end; }
}

/** The first packet of a connection (untagged): startup, SSL/GSS negotiation or a cancel. */
export function parseStartupPacket(buf: Buffer, bodyStart: number, end: number): StartupPacket {
  const r = new BodyReader(buf, bodyStart, end, 'startup');
  const code = r.int32();
  if (code === StartupCode.SSLRequest) return { kind: 'ssl' };
  if (code === StartupCode.GSSENCRequest) return { kind: 'gssenc' };
  if (code === StartupCode.CancelRequest) {
    return { kind: 'cancel', processId: r.int32(), secretKey: r.int32() };
  }
  const parameters: Record<string, string> = Object.create(null) as Record<string, string>;
  if ((code >>> 16) === 3) {
    for (;;) {
      const name = r.cstring();
      if (name === '') break;
      parameters[name] = r.cstring();
    }
  }
  return { kind: 'startup', version: code, parameters };
}

/** Query ('Q'): the SQL text. */
export function parseQuery(buf: Buffer, bodyStart: number, end: number): string {
  return new BodyReader(buf, bodyStart, end, 'Query').cstring();
}

export function parseParse(buf: Buffer, bodyStart: number, end: number): ParseMessage {
  const r = new BodyReader(buf, bodyStart, end, 'Parse');
  const name = r.cstring();
  const query = r.cstring();
  const n = r.int16();
  if (n < 0) throw violation('Parse');
  const parameterTypes: number[] = new Array<number>(n);
  for (let i = 0; i < n; i++) parameterTypes[i] = r.int32() >>> 0;
  return { name, query, parameterTypes };
}

export function parseBind(buf: Buffer, bodyStart: number, end: number): BindMessage {
  const r = new BodyReader(buf, bodyStart, end, 'Bind');
  const portal = r.cstring();
  const statement = r.cstring();
  const nf = r.int16();
  if (nf < 0) throw violation('Bind');
  const parameterFormats: number[] = new Array<number>(nf);
  for (let i = 0; i < nf; i++) parameterFormats[i] = r.int16();
  const np = r.int16();
  if (np < 0) throw violation('Bind');
  const parameters: (Buffer | null)[] = new Array<Buffer | null>(np);
  for (let i = 0; i < np; i++) parameters[i] = r.value();
  const nr = r.int16();
  if (nr < 0) throw violation('Bind');
  const resultFormats: number[] = new Array<number>(nr);
  for (let i = 0; i < nr; i++) resultFormats[i] = r.int16();
  return { portal, statement, parameterFormats, parameters, resultFormats };
}

/** Just the portal and statement names of a Bind, for the hot path. */
export function parseBindNames(buf: Buffer, bodyStart: number, end: number): { portal: string; statement: string } {
  const r = new BodyReader(buf, bodyStart, end, 'Bind');
  const portal = r.cstring();
  return { portal, statement: r.cstring() };
}

/** Describe ('D') and Close ('C'). */
export function parseTarget(buf: Buffer, bodyStart: number, end: number, what: string): TargetMessage {
  const r = new BodyReader(buf, bodyStart, end, what);
  const t = r.byte();
  if (t !== 0x53 && t !== 0x50) throw violation(what);
  return { target: t === 0x53 ? 'S' : 'P', name: r.cstring() };
}

export function parseExecute(buf: Buffer, bodyStart: number, end: number): ExecuteMessage {
  const r = new BodyReader(buf, bodyStart, end, 'Execute');
  return { portal: r.cstring(), maxRows: r.int32() };
}

export function parseFunctionCall(buf: Buffer, bodyStart: number, end: number): FunctionCallMessage {
  const r = new BodyReader(buf, bodyStart, end, 'FunctionCall');
  const functionOid = r.int32() >>> 0;
  const nf = r.int16();
  if (nf < 0) throw violation('FunctionCall');
  const argumentFormats: number[] = [];
  for (let i = 0; i < nf; i++) argumentFormats.push(r.int16());
  const na = r.int16();
  if (na < 0) throw violation('FunctionCall');
  const args: (Buffer | null)[] = [];
  for (let i = 0; i < na; i++) args.push(r.value());
  return { functionOid, argumentFormats, arguments: args, resultFormat: r.int16() };
}

/** PasswordMessage: the cleartext password (NUL-terminated). */
export function parsePassword(buf: Buffer, bodyStart: number, end: number): string {
  return new BodyReader(buf, bodyStart, end, 'PasswordMessage').cstring();
}

export function parseSaslInitialResponse(buf: Buffer, bodyStart: number, end: number): { mechanism: string; data: Buffer } {
  const r = new BodyReader(buf, bodyStart, end, 'SASLInitialResponse');
  const mechanism = r.cstring();
  const n = r.int32();
  return { mechanism, data: n === -1 ? Buffer.alloc(0) : r.bytes(n) };
}

export function parseSaslResponse(buf: Buffer, bodyStart: number, end: number): Buffer {
  return Buffer.from(buf.subarray(bodyStart, end));
}

// ---- backend messages ----

export function parseRowDescription(buf: Buffer, bodyStart: number, end: number): FieldDescription[] {
  const r = new BodyReader(buf, bodyStart, end, 'RowDescription');
  const n = r.int16();
  if (n < 0) throw violation('RowDescription');
  const fields: FieldDescription[] = new Array<FieldDescription>(n);
  for (let i = 0; i < n; i++) {
    fields[i] = {
      name: r.cstring(),
      tableOid: r.int32() >>> 0,
      columnNumber: r.int16(),
      typeOid: r.int32() >>> 0,
      typeSize: r.int16(),
      typeModifier: r.int32(),
      format: r.int16(),
    };
  }
  return fields;
}

/** DataRow values as views into `buf` (null for SQL NULL). */
export function parseDataRow(buf: Buffer, bodyStart: number, end: number): (Buffer | null)[] {
  const r = new BodyReader(buf, bodyStart, end, 'DataRow');
  const n = r.int16();
  if (n < 0) throw violation('DataRow');
  const values: (Buffer | null)[] = new Array<Buffer | null>(n);
  for (let i = 0; i < n; i++) values[i] = r.value();
  return values;
}

/** CommandComplete's tag, e.g. `SELECT 3`, `INSERT 0 1`. */
export function parseCommandTag(buf: Buffer, bodyStart: number, end: number): string {
  return new BodyReader(buf, bodyStart, end, 'CommandComplete').cstring();
}

/** Row count of a command tag, when it carries one (`SELECT 3` -> 3, `CREATE TABLE` -> undefined). */
export function rowsOfTag(tag: string): number | undefined {
  const space = tag.lastIndexOf(' ');
  if (space < 0) return undefined;
  let n = 0;
  for (let i = space + 1; i < tag.length; i++) {
    const c = tag.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return undefined;
    n = n * 10 + c;
  }
  return space + 1 < tag.length ? n : undefined;
}

/** ErrorResponse / NoticeResponse fields. */
export function parseErrorFields(buf: Buffer, bodyStart: number, end: number): ErrorFields {
  const r = new BodyReader(buf, bodyStart, end, 'ErrorResponse');
  const fields: Record<string, string> = {};
  while (!r.done) {
    const code = r.byte();
    if (code === 0) break;
    fields[String.fromCharCode(code)] = r.cstring();
  }
  return fields;
}

export function parseAuthentication(buf: Buffer, bodyStart: number, end: number): AuthenticationRequest {
  const r = new BodyReader(buf, bodyStart, end, 'Authentication');
  const code = r.int32();
  switch (code) {
    case AuthCode.MD5Password:
      return { code, salt: Buffer.from(r.bytes(4)) };
    case AuthCode.SASL: {
      const mechanisms: string[] = [];
      for (;;) {
        const m = r.cstring();
        if (m === '') break;
        mechanisms.push(m);
      }
      return { code, mechanisms };
    }
    case AuthCode.SASLContinue:
    case AuthCode.SASLFinal:
      return { code, data: Buffer.from(r.rest()) };
    default:
      return { code };
  }
}

export function parseBackendKeyData(buf: Buffer, bodyStart: number, end: number): { processId: number; secretKey: number } {
  const r = new BodyReader(buf, bodyStart, end, 'BackendKeyData');
  return { processId: r.int32(), secretKey: r.int32() };
}

export function parseParameterStatus(buf: Buffer, bodyStart: number, end: number): { name: string; value: string } {
  const r = new BodyReader(buf, bodyStart, end, 'ParameterStatus');
  return { name: r.cstring(), value: r.cstring() };
}
