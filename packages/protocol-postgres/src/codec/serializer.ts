import { AuthCode, Backend, StartupCode, type ErrorFields } from './messages';

// Encoders for the messages querygate itself produces: the server side it shows clients, and the
// client side it speaks to upstream. Forwarded messages are never re-encoded.

/** A tagged message from its type and body parts. */
function message(type: number, ...parts: readonly Buffer[]): Buffer {
  let length = 4;
  for (const p of parts) length += p.length;
  const out = Buffer.allocUnsafe(length + 1);
  out[0] = type;
  out.writeInt32BE(length, 1);
  let pos = 5;
  for (const p of parts) { p.copy(out, pos); pos += p.length; }
  return out;
}

function cstr(s: string): Buffer {
  const b = Buffer.from(s + '\0', 'utf8');
  return b;
}

function int32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32BE(n | 0, 0);
  return b;
}

// ---- backend (what querygate tells its clients) ----

/** ErrorResponse (or NoticeResponse with `type` 'N'): fields in the given order, S/V/C/M first. */
export function errorResponse(fields: ErrorFields, type: number = Backend.ErrorResponse): Buffer {
  const parts: Buffer[] = [];
  for (const [code, value] of Object.entries(fields)) {
    parts.push(Buffer.from(code, 'latin1'), cstr(value));
  }
  parts.push(Buffer.from([0]));
  return message(type, ...parts);
}

export function noticeResponse(fields: ErrorFields): Buffer {
  return errorResponse(fields, Backend.NoticeResponse);
}

export function authenticationOk(): Buffer { return message(Backend.Authentication, int32(AuthCode.Ok)); }
export function authenticationCleartextPassword(): Buffer { return message(Backend.Authentication, int32(AuthCode.CleartextPassword)); }

export function authenticationSasl(mechanisms: readonly string[]): Buffer {
  return message(Backend.Authentication, int32(AuthCode.SASL), ...mechanisms.map(cstr), Buffer.from([0]));
}

export function authenticationSaslContinue(data: string): Buffer {
  return message(Backend.Authentication, int32(AuthCode.SASLContinue), Buffer.from(data, 'utf8'));
}

export function authenticationSaslFinal(data: string): Buffer {
  return message(Backend.Authentication, int32(AuthCode.SASLFinal), Buffer.from(data, 'utf8'));
}

export function parameterStatus(name: string, value: string): Buffer {
  return message(Backend.ParameterStatus, cstr(name), cstr(value));
}

export function backendKeyData(processId: number, secretKey: number): Buffer {
  return message(Backend.BackendKeyData, int32(processId), int32(secretKey));
}

/** ReadyForQuery with the transaction status byte: 'I' idle, 'T' in a transaction, 'E' failed. */
export function readyForQuery(status: number): Buffer {
  return message(Backend.ReadyForQuery, Buffer.from([status]));
}

/** A DataRow from values already in their wire format (null for SQL NULL). */
export function dataRow(values: readonly (Buffer | null)[]): Buffer {
  let length = 4 + 2;
  for (const v of values) length += 4 + (v === null ? 0 : v.length);
  const out = Buffer.allocUnsafe(length + 1);
  out[0] = Backend.DataRow;
  out.writeInt32BE(length, 1);
  out.writeInt16BE(values.length, 5);
  let pos = 7;
  for (const v of values) {
    if (v === null) { out.writeInt32BE(-1, pos); pos += 4; continue; }
    out.writeInt32BE(v.length, pos);
    pos += 4;
    v.copy(out, pos);
    pos += v.length;
  }
  return out;
}

// ---- frontend (what querygate tells the upstream server) ----

export function startupMessage(parameters: Readonly<Record<string, string>>): Buffer {
  const parts: Buffer[] = [int32(StartupCode.ProtocolV3)];
  for (const [k, v] of Object.entries(parameters)) parts.push(cstr(k), cstr(v));
  parts.push(Buffer.from([0]));
  const body = Buffer.concat(parts);
  return Buffer.concat([int32(body.length + 4), body]);
}

export function sslRequest(): Buffer {
  return Buffer.concat([int32(8), int32(StartupCode.SSLRequest)]);
}

export function cancelRequest(processId: number, secretKey: number): Buffer {
  return Buffer.concat([int32(16), int32(StartupCode.CancelRequest), int32(processId), int32(secretKey)]);
}

export function passwordMessage(password: string): Buffer {
  return message(0x70, cstr(password));
}

export function saslInitialResponse(mechanism: string, data: string): Buffer {
  const d = Buffer.from(data, 'utf8');
  return message(0x70, cstr(mechanism), int32(d.length), d);
}

export function saslResponse(data: string): Buffer {
  return message(0x70, Buffer.from(data, 'utf8'));
}

export function query(sql: string): Buffer {
  return message(0x51, cstr(sql));
}

/** Describe of a portal ('P') or prepared statement ('S'). */
export function describe(target: 'S' | 'P', name: string): Buffer {
  return message(0x44, Buffer.from(target, 'latin1'), cstr(name));
}

export function sync(): Buffer { return message(0x53); }
export function terminate(): Buffer { return message(0x58); }


/** NegotiateProtocolVersion: the newest minor version querygate speaks and the options it ignored. */
export function negotiateProtocolVersion(newestMinor: number, unrecognized: readonly string[]): Buffer {
  return message(Backend.NegotiateProtocolVersion, int32(0x30000 | newestMinor), int32(unrecognized.length), ...unrecognized.map(cstr));
}
