// Minimal reproductions of what the decoder fuzzer found. Each fails until the decoder is fixed;
// the fuzzer (decoders.test.ts) keeps looking for more of the same kind.
import { GatewayError } from '@querygate/core';
import * as parser from '../../src/codec/parser';

/** The message `type` with `bodyHex` as its body, and the decoder's arguments for it. */
function message(type: string, bodyHex: string): [Buffer, number, number] {
  const body = Buffer.from(bodyHex.replace(/\s+/g, ''), 'hex');
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  const buf = Buffer.concat([head, body]);
  return [buf, 5, buf.length];
}

function thrown(run: () => unknown): unknown {
  try { run(); } catch (err) { return err; }
  return undefined;
}

describe('fuzzer findings: backend decoders and negative counts', () => {
  // A RowDescription / DataRow whose int16 field count is negative (0xffff = -1) reaches
  // `new Array(n)`, which throws RangeError "Invalid array length" instead of the documented
  // QG_PROTOCOL_VIOLATION. Only an upstream sends these (a real PostgreSQL never sends a negative
  // count; a hostile server or a man in the middle on a plaintext upstream can): the session then
  // ends with XX000 "internal gateway error" and an error log instead of a protocol error.
  test('RowDescription with field count -1 (T 00000006 ffff) throws QG_PROTOCOL_VIOLATION', () => {
    const err = thrown(() => parser.parseRowDescription(...message('T', 'ffff')));
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe('QG_PROTOCOL_VIOLATION');
  });

  test('DataRow with column count -32768 (D 00000006 8000) throws QG_PROTOCOL_VIOLATION', () => {
    const err = thrown(() => parser.parseDataRow(...message('D', '8000')));
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe('QG_PROTOCOL_VIOLATION');
  });
});
