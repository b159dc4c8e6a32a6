import { compileMask, emailMask, MaskingKey, partial, type Strategy } from '../src';

const key = new MaskingKey('test-masking-key-0123456789');
const other = new MaskingKey('another-masking-key-9876543210');
const pg = (type: string) => ({ type, protocol: 'postgres' as const });
const my = (type: string) => ({ type, protocol: 'mysql' as const });
const redact: Strategy = { kind: 'redact', text: '****', typed: true };

describe('redact', () => {
  it.each([
    ['text', '****'], ['varchar', '****'], ['varchar(255)', '****'], ['int4', '0'], ['int8', '0'], ['numeric', '0'],
    ['float8', '0'], ['money', '0.00'], ['bool', 'f'], ['date', '1970-01-01'], ['time', '00:00:00'], ['timetz', '00:00:00+00'],
    ['timestamp', '1970-01-01 00:00:00'], ['timestamptz', '1970-01-01 00:00:00+00'], ['interval', '00:00:00'],
    ['uuid', '00000000-0000-0000-0000-000000000000'], ['json', '"****"'], ['jsonb', '"****"'], ['inet', '0.0.0.0'],
    ['cidr', '0.0.0.0/0'], ['macaddr', '00:00:00:00:00:00'], ['macaddr8', '00:00:00:00:00:00:00:00'], ['bytea', '\\x'],
    ['_text', '{}'], ['int4[]', '{}'], ['bit', '0'], ['point', '****'],
  ])('PostgreSQL %s -> %j', (type, expected) => {
    expect(compileMask(redact, pg(type), undefined)('secret')).toBe(expected);
  });
  it.each([
    ['tinyint', '0'], ['int unsigned', '0'], ['decimal(10,2)', '0'], ['datetime', '1970-01-01 00:00:00'], ['timestamp', '1970-01-01 00:00:00'],
    ['year', '1970'], ['blob', '****'], ['boolean', '0'], ['enum', '****'],
  ])('MySQL %s -> %j', (type, expected) => {
    expect(compileMask(redact, my(type), undefined)('secret')).toBe(expected);
  });
  it('uses the given text, and can skip typing', () => {
    expect(compileMask({ kind: 'redact', text: '[hidden]', typed: true }, pg('text'), undefined)('x')).toBe('[hidden]');
    expect(compileMask({ kind: 'redact', text: '[hidden]', typed: true }, pg('int4'), undefined)('7')).toBe('0');
    expect(compileMask({ kind: 'redact', text: '[hidden]', typed: false }, pg('int4'), undefined)('7')).toBe('[hidden]');
  });
});

describe('partial', () => {
  const p = (first: number, last: number, char = '*'): Strategy => ({ kind: 'partial', first, last, char });
  it('keeps the ends', () => {
    expect(compileMask(p(0, 4), pg('text'), undefined)('123-45-6789')).toBe('*******6789');
    expect(compileMask(p(2, 2, '#'), pg('text'), undefined)('abcdef')).toBe('ab##ef');
    expect(compileMask(p(1, 0), pg('text'), undefined)('secret')).toBe('s*****');
  });
  it('hides short values whole', () => {
    expect(partial('abc', 0, 4, '*')).toBe('***');
    expect(partial('abcd', 2, 2, '*')).toBe('****');
    expect(partial('', 0, 4, '*')).toBe('');
  });
  it('counts characters, not UTF-16 units', () => {
    expect(partial('héllo wörld 😀😀', 1, 2, '*')).toBe('h***********😀😀');
  });
  it('falls back to typed redaction for non-text columns', () => {
    expect(compileMask(p(0, 4), pg('int8'), undefined)('123456789')).toBe('0');
  });
  it('keeps json valid', () => {
    expect(compileMask(p(0, 2), pg('jsonb'), undefined)('"abcdef"')).toBe(JSON.stringify('******f"'));
  });
});

describe('email', () => {
  const e: Strategy = { kind: 'email', keep: 1 };
  it('keeps the domain', () => {
    expect(compileMask(e, pg('text'), undefined)('alice@example.com')).toBe('a***@example.com');
    expect(emailMask('alice@example.com', 2)).toBe('al***@example.com');
    expect(emailMask('a@x.io', 1)).toBe('***@x.io');
    expect(emailMask('"we@ird"@example.com', 1)).toBe('"***@example.com');
  });
  it('redacts values without @', () => {
    expect(emailMask('not-an-email', 1)).toBe('****');
    expect(emailMask('@example.com', 1)).toBe('****');
    expect(emailMask('alice@', 1)).toBe('****');
  });
});

describe('hash', () => {
  const h: Strategy = { kind: 'hash', length: 16 };
  it('is deterministic and keyed', () => {
    const a = compileMask(h, pg('text'), key);
    expect(a('alice@example.com')).toBe(a('alice@example.com'));
    expect(a('alice@example.com')).toMatch(/^[0-9a-f]{16}$/);
    expect(a('alice@example.com')).not.toBe(a('bob@example.com'));
    expect(compileMask(h, pg('varchar'), key)('alice@example.com')).toBe(a('alice@example.com'));
    expect(compileMask(h, pg('text'), other)('alice@example.com')).not.toBe(a('alice@example.com'));
  });
  it('truncates to the length', () => {
    expect(compileMask({ kind: 'hash', length: 5 }, pg('text'), key)('x')).toHaveLength(5);
    expect(compileMask({ kind: 'hash', length: 64 }, pg('text'), key)('x')).toHaveLength(64);
  });
  it('is typed for numbers and uuids', () => {
    const small = compileMask(h, pg('int2'), key);
    for (const v of ['1', '2', '3', '40000']) expect(Number(small(v) ?? NaN)).toBeLessThanOrEqual(32767);
    expect(compileMask(h, pg('int4'), key)('123')).toMatch(/^\d+$/);
    expect(BigInt(compileMask(h, pg('int8'), key)('123') ?? '')).toBeLessThanOrEqual(9223372036854775807n);
    expect(Number(compileMask(h, my('tinyint'), key)('5'))).toBeLessThanOrEqual(127);
    expect(compileMask(h, pg('uuid'), key)('5f0c6c2e-1111-4222-8333-444455556666')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(compileMask(h, pg('date'), key)('2020-02-02')).toBe('1970-01-01');
  });
  it('needs a key', () => {
    expect(() => compileMask(h, pg('text'), undefined)).toThrow(/key/);
  });
});

describe('pseudonym', () => {
  const ps: Strategy = { kind: 'pseudonym' };
  const mask = compileMask(ps, pg('text'), key);
  it('keeps length and character classes, and punctuation', () => {
    const value = 'Alice Smith-Jones, +1 (415) 555-0132 #42';
    const out = mask(value)!;
    expect(out).toHaveLength(value.length);
    expect(out).not.toBe(value);
    for (let i = 0; i < value.length; i++) {
      const [a, b] = [value[i]!, out[i]!];
      if (/\d/.test(a)) expect(b).toMatch(/\d/);
      else if (/[a-z]/.test(a)) expect(b).toMatch(/[a-z]/);
      else if (/[A-Z]/.test(a)) expect(b).toMatch(/[A-Z]/);
      else expect(b).toBe(a);
    }
  });
  it('is deterministic across calls and masks, different per key', () => {
    expect(mask('123-45-6789')).toBe(compileMask(ps, pg('varchar'), key)('123-45-6789'));
    expect(compileMask(ps, pg('text'), other)('123-45-6789')).not.toBe(mask('123-45-6789'));
    expect(mask('123-45-6789')).toMatch(/^\d{3}-\d{2}-\d{4}$/);
  });
  it('covers long values and non-ASCII letters', () => {
    const long = 'x'.repeat(100);
    expect(mask(long)).toHaveLength(100);
    expect(mask(long)).toMatch(/^[a-z]{100}$/);
    expect(mask('Ärger')).toMatch(/^[A-Z][a-z]{4}$/);
  });
  it('keeps numbers numbers and uuids uuids', () => {
    const int = compileMask(ps, pg('int4'), key)('123456');
    expect(int).toMatch(/^[1-9]\d{5}$/);
    const big = compileMask(ps, pg('int4'), key)('2147483647');
    expect(Number(big)).toBeLessThanOrEqual(2147483647);
    expect(compileMask(ps, pg('numeric'), key)('-1234.56')).toMatch(/^-[1-9]\d{3}\.\d\d$/);
    expect(compileMask(ps, pg('uuid'), key)('5F0C6C2E-1111-4222-8333-444455556666')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });
});

describe('null', () => {
  it('turns the value into SQL NULL, whatever the type', () => {
    for (const t of ['text', 'int4', 'uuid']) expect(compileMask({ kind: 'null' }, pg(t), undefined)('x')).toBeNull();
  });
});
