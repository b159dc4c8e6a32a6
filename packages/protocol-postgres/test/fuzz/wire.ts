// Valid PostgreSQL v3 messages to mutate, built by hand (never with the serializer under test).

export const be16 = (n: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16BE(n & 0xffff); return b; };
export const be32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b; };
export const cstr = (s: string): Buffer => Buffer.from(`${s}\0`, 'utf8');
export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** A tagged message: type byte, int32 length (itself included), body. */
export function tagged(type: string, ...body: Buffer[]): Buffer {
  const b = Buffer.concat(body);
  return Buffer.concat([Buffer.from(type, 'latin1'), be32(b.length + 4), b]);
}

/** An untagged packet (startup phase): int32 length (itself included), body. */
export function untagged(...body: Buffer[]): Buffer {
  const b = Buffer.concat(body);
  return Buffer.concat([be32(b.length + 4), b]);
}

export const PROTOCOL_3_0 = 196608;
export const SSL_REQUEST = 80877103;
export const GSSENC_REQUEST = 80877104;
export const CANCEL_REQUEST = 80877102;

/** StartupMessage body: version then name/value pairs, then a final NUL. */
export function startupBody(params: Record<string, string>, version = PROTOCOL_3_0): Buffer {
  return Buffer.concat([be32(version), ...Object.entries(params).flatMap(([k, v]) => [cstr(k), cstr(v)]), Buffer.alloc(1)]);
}

/** Bodies of valid client messages, by decoder. */
export const frontendBodies = {
  startup: [
    startupBody({ user: 'alice', database: 'app' }),
    startupBody({ user: 'alice', database: 'app', application_name: 'psql', client_encoding: 'UTF8', options: '-c search_path=public' }),
    startupBody({ user: 'u', _pq_: 'x', '_pq_.ext': '1' }, PROTOCOL_3_0 + 2),
    startupBody({}, 0x00020000),
    be32(SSL_REQUEST),
    be32(GSSENC_REQUEST),
    Buffer.concat([be32(CANCEL_REQUEST), be32(4242), be32(0x7eadbeef)]),
  ],
  query: [cstr('SELECT 1'), cstr('SELECT $1::int, \'x\'; UPDATE t SET a = 1 WHERE b = 2'), cstr('')],
  parse: [
    Buffer.concat([cstr('s1'), cstr('SELECT $1::int'), be16(1), be32(23)]),
    Buffer.concat([cstr(''), cstr('INSERT INTO t VALUES ($1, $2)'), be16(2), be32(25), be32(0)]),
    Buffer.concat([cstr(''), cstr('SELECT 1'), be16(0)]),
  ],
  bind: [
    Buffer.concat([cstr(''), cstr('s1'), be16(2), be16(0), be16(1), be16(2), be32(2), Buffer.from('42'), be32(-1), be16(1), be16(1)]),
    Buffer.concat([cstr('p'), cstr(''), be16(0), be16(1), be32(4), be32(7), be16(0)]),
    Buffer.concat([cstr(''), cstr(''), be16(0), be16(0), be16(0)]),
  ],
  describe: [Buffer.concat([Buffer.from('S'), cstr('s1')]), Buffer.concat([Buffer.from('P'), cstr('')])],
  execute: [Buffer.concat([cstr(''), be32(0)]), Buffer.concat([cstr('portal'), be32(100)])],
  close: [Buffer.concat([Buffer.from('S'), cstr('s1')]), Buffer.concat([Buffer.from('P'), cstr('cur')])],
  functionCall: [
    Buffer.concat([be32(1299), be16(0), be16(0), be16(0)]),
    Buffer.concat([be32(3496), be16(1), be16(0), be16(2), be32(2), Buffer.from('42'), be32(-1), be16(1)]),
  ],
  password: [cstr('alice-Secret-1'), cstr('')],
  saslInitial: [
    Buffer.concat([cstr('SCRAM-SHA-256'), be32(32), Buffer.from('n,,n=,r=rOprNGfwEbeRWgbNEkqO%hvY')]),
    Buffer.concat([cstr('SCRAM-SHA-256'), be32(-1)]),
  ],
  saslResponse: [Buffer.from('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=')],
  copyData: [Buffer.from('1\tone\n2\ttwo\n')],
  copyFail: [cstr('aborted by the client')],
} as const;

const field = (name: string, table: number, column: number, type: number, size: number, mod: number, format: number): Buffer =>
  Buffer.concat([cstr(name), be32(table), be16(column), be32(type), be16(size), be32(mod), be16(format)]);

/** Bodies of valid server messages the adapter decodes. */
export const backendBodies = {
  rowDescription: [
    Buffer.concat([be16(2), field('id', 16384, 1, 23, 4, -1, 0), field('email', 16384, 2, 25, -1, -1, 1)]),
    be16(0),
  ],
  dataRow: [
    Buffer.concat([be16(3), be32(1), Buffer.from('7'), be32(-1), be32(5), Buffer.from('alice')]),
    be16(0),
  ],
  errorResponse: [
    Buffer.concat([Buffer.from('S'), cstr('ERROR'), Buffer.from('V'), cstr('ERROR'), Buffer.from('C'), cstr('42P01'), Buffer.from('M'), cstr('relation "x" does not exist'), Buffer.from('P'), cstr('15'), Buffer.alloc(1)]),
  ],
  commandComplete: [cstr('SELECT 3'), cstr('INSERT 0 1'), cstr('CREATE TABLE'), cstr('COPY 12')],
  parameterStatus: [Buffer.concat([cstr('client_encoding'), cstr('UTF8')]), Buffer.concat([cstr('server_version'), cstr('15.8')])],
  backendKeyData: [Buffer.concat([be32(4242), be32(0x7eadbeef)])],
  authentication: [
    be32(0),
    be32(3),
    Buffer.concat([be32(5), hex('01020304')]),
    Buffer.concat([be32(10), cstr('SCRAM-SHA-256-PLUS'), cstr('SCRAM-SHA-256'), Buffer.alloc(1)]),
    Buffer.concat([be32(11), Buffer.from('r=abc,s=c2FsdA==,i=4096')]),
    Buffer.concat([be32(12), Buffer.from('v=c2lnbmF0dXJl')]),
  ],
} as const;

/** A stream a client could send after startup. */
export function frontendStream(): Buffer {
  return Buffer.concat([
    tagged('Q', frontendBodies.query[0]),
    tagged('P', frontendBodies.parse[0]),
    tagged('B', frontendBodies.bind[0]),
    tagged('D', frontendBodies.describe[1]),
    tagged('E', frontendBodies.execute[0]),
    tagged('C', frontendBodies.close[0]),
    tagged('H'),
    tagged('S'),
    tagged('d', frontendBodies.copyData[0]),
    tagged('c'),
    tagged('f', frontendBodies.copyFail[0]),
    tagged('F', frontendBodies.functionCall[1]),
    tagged('X'),
  ]);
}

/** A stream a server could send. */
export function backendStream(): Buffer {
  return Buffer.concat([
    tagged('R', backendBodies.authentication[0]),
    tagged('S', backendBodies.parameterStatus[0]),
    tagged('K', backendBodies.backendKeyData[0]),
    tagged('Z', Buffer.from('I')),
    tagged('T', backendBodies.rowDescription[0]),
    tagged('D', backendBodies.dataRow[0]),
    tagged('C', backendBodies.commandComplete[0]),
    tagged('E', backendBodies.errorResponse[0]),
    tagged('Z', Buffer.from('T')),
  ]);
}
