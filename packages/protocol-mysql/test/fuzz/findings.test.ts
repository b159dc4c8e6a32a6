// Minimal reproductions of what the decoder fuzzer found. Each fails until the code is fixed; the
// fuzzer (decoders.test.ts) keeps looking for more of the same kind.
import { MalformedPacket } from '../../src/codec/PayloadReader';
import { RowRewriter } from '../../src/session/RowRewriter';

const TINY = 0x01;
const LONG = 0x03;

function thrown(run: () => unknown): unknown {
  try { run(); } catch (err) { return err; }
  return undefined;
}

describe('fuzzer findings: binary result rows in the RowRewriter (masking)', () => {
  // A binary row shorter than its NULL bitmap: rewriteBinary copies the short bitmap into a
  // Buffer.allocUnsafe() of the full size, so the bytes it did not copy are whatever was in
  // Node's buffer pool: process memory (other sessions' rows, credentials) goes to the client.
  // Reached when the upstream sends a truncated binary row (hostile server / man in the middle on
  // a plaintext upstream) for a result set that has a RowTransform (masking or recording).
  test('a one-byte binary row (00) is refused, not padded with uninitialised memory', () => {
    const rewriter = new RowRewriter([{ type: TINY, unsigned: false }], { columns: new Map() }, true);
    const outputs = new Set<string>();
    let error: unknown;
    for (let i = 0; i < 20 && error === undefined; i++) {
      // Dirty the pool between calls so uninitialised bytes show.
      Buffer.allocUnsafe(64).fill(i * 13 + 1);
      error = thrown(() => outputs.add(rewriter.rewrite(Buffer.from([0x00])).payload.toString('hex')));
    }
    expect(error).toBeInstanceOf(MalformedPacket);
    expect([...outputs]).toEqual([]);
  });

  // Columns without a mask are copied with subarray(offset, skipBinaryValue(...)), which clamps a
  // value running past the end of the row: a truncated row is forwarded, re-framed as if it were
  // valid, instead of MalformedPacket. (The masked column's decoder does check bounds.)
  test('a binary row whose unmasked LONG value is cut short is refused', () => {
    const rewriter = new RowRewriter([{ type: LONG, unsigned: false }, { type: TINY, unsigned: false }], { columns: new Map([[1, () => '1']]) }, true);
    // header 00, bitmap 02 (column 1 NULL), then only 2 of the LONG's 4 bytes.
    expect(thrown(() => rewriter.rewrite(Buffer.from('00080700', 'hex')))).toBeInstanceOf(MalformedPacket);
  });
});
