import { Framer } from '../../src/codec/Framer';

// Expected frames are written as hex by hand, never produced by the serializer under test.
const QUERY_SELECT_1 = '510000000d53454c4543542031' + '00'; // Q "SELECT 1"
const SYNC = '5300000004'; // S
const PARSE_EMPTY = '50000000080000' + '0000'; // P name "" query "" 0 params

function frames(framer: Framer): string[] {
  const out: string[] = [];
  while (framer.next()) out.push(framer.buffer.subarray(framer.start, framer.end).toString('hex'));
  return out;
}

describe('Framer', () => {
  const stream = QUERY_SELECT_1 + SYNC + PARSE_EMPTY;
  const bytes = Buffer.from(stream, 'hex');

  test('frames a stream that arrives in one chunk', () => {
    const f = new Framer();
    f.push(bytes);
    expect(frames(f)).toEqual([QUERY_SELECT_1, SYNC, PARSE_EMPTY]);
    expect(f.buffered).toBe(0);
  });

  test('split at every offset, into two chunks, gives the same frames', () => {
    for (let i = 0; i <= bytes.length; i++) {
      const f = new Framer();
      const out: string[] = [];
      f.push(bytes.subarray(0, i));
      out.push(...frames(f));
      f.push(bytes.subarray(i));
      out.push(...frames(f));
      expect(out).toEqual([QUERY_SELECT_1, SYNC, PARSE_EMPTY]);
    }
  });

  test('byte by byte', () => {
    const f = new Framer();
    const out: string[] = [];
    for (const b of bytes) { f.push(Buffer.from([b])); out.push(...frames(f)); }
    expect(out).toEqual([QUERY_SELECT_1, SYNC, PARSE_EMPTY]);
  });

  test('a large message split over many chunks is assembled once', () => {
    const body = Buffer.alloc(200_000, 0x61);
    const msg = Buffer.concat([Buffer.from('64', 'hex'), Buffer.from((body.length + 4).toString(16).padStart(8, '0'), 'hex'), body, Buffer.from(SYNC, 'hex')]);
    const f = new Framer();
    const out: number[] = [];
    for (let i = 0; i < msg.length; i += 7000) {
      f.push(msg.subarray(i, i + 7000));
      while (f.next()) out.push(f.end - f.start);
    }
    expect(out).toEqual([body.length + 5, 5]);
  });

  test('untagged startup packets', () => {
    const startup = Buffer.from('00000014' + '00030000' + '7573657200616c69636500' + '00', 'hex');
    const f = new Framer(true);
    for (let i = 0; i <= startup.length; i++) {
      const g = new Framer(true);
      g.push(startup.subarray(0, i));
      const first = g.next();
      g.push(startup.subarray(i));
      expect(first || g.next()).toBe(true);
      expect(g.end - g.start).toBe(20);
    }
    f.push(startup);
    expect(f.next()).toBe(true);
  });

  test.each([
    ['a length below 4', '5100000003'],
    ['a huge length', '517fffffff'],
    ['a negative length', '51ffffffff'],
  ])('%s is a protocol violation', (_what, hex) => {
    const f = new Framer();
    f.push(Buffer.from(hex, 'hex'));
    expect(() => f.next()).toThrow(expect.objectContaining({ code: 'QG_PROTOCOL_VIOLATION' }));
  });

  test('startup packets longer than 10000 bytes or shorter than 8 are refused', () => {
    for (const hex of ['00002711', '00000004', '474554202f20485454']) {
      const f = new Framer(true);
      f.push(Buffer.from(hex, 'hex'));
      expect(() => f.next()).toThrow(expect.objectContaining({ code: 'QG_PROTOCOL_VIOLATION' }));
    }
  });
});
