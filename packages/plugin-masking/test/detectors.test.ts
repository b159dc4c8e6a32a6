import { builtinDetector, customDetector, ibanValid, luhnValid, maskMatches, type BuiltinDetectorName } from '../src';

function found(name: BuiltinDetectorName, value: string): string[] {
  return builtinDetector(name).find(value).map(([s, e]) => value.slice(s, e));
}

const HEADER = Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url');
const PAYLOAD = Buffer.from('{"sub":"1234567890","name":"Alice"}').toString('base64url');
const JWT = `${HEADER}.${PAYLOAD}.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c`;
const PEM = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\nabc+/=\n-----END RSA PRIVATE KEY-----';

const CASES: Record<BuiltinDetectorName, { hits: [string, string][]; misses: string[] }> = {
  email: {
    hits: [['contact: alice.smith+tag@mail.example.co.uk, thanks', 'alice.smith+tag@mail.example.co.uk'], ['a@b.io', 'a@b.io']],
    misses: ['alice at example dot com', 'user@localhost', '@example.com', 'a@b.c'],
  },
  phone: {
    hits: [
      ['call +14155550132 now', '+14155550132'],
      ['+44 20 7946 0958', '+44 20 7946 0958'],
      ['(415) 555-0132', '(415) 555-0132'],
      ['tel 415-555-0132.', '415-555-0132'],
      ['415.555.0132', '415.555.0132'],
      ['London 020 7946 0958', '020 7946 0958'],
      ['06 12 34 56 78', '06 12 34 56 78'],
      ['030 12345678', '030 12345678'],
    ],
    misses: ['2024-01-15', '192.168.1.10', '4111111111111111', 'order 12345', 'v1.2.3', '12:30:45', '+123', 'price 1 000', '555-0132'],
  },
  credit_card: {
    hits: [
      ['card 4111 1111 1111 1111 exp', '4111 1111 1111 1111'],
      ['5500-0000-0000-0004', '5500-0000-0000-0004'],
      ['amex 378282246310005', '378282246310005'],
      ['4012888888881881', '4012888888881881'],
    ],
    misses: ['4111 1111 1111 1112', '1234567812345678', '0000000000000000', '411111111111', '41111111111111111111'],
  },
  iban: {
    hits: [
      ['DE89 3704 0044 0532 0130 00', 'DE89 3704 0044 0532 0130 00'],
      ['pay to GB82WEST12345698765432 today', 'GB82WEST12345698765432'],
      ['GB82 WEST 1234 5698 7654 32 AND more', 'GB82 WEST 1234 5698 7654 32'],
      ['fr7630006000011234567890189', 'fr7630006000011234567890189'],
    ],
    misses: ['DE89 3704 0044 0532 0130 01', 'GB82WEST12345698765433', 'DE8937040044053201300', 'XX00 0000'],
  },
  us_ssn: {
    hits: [['ssn 123-45-6789', '123-45-6789'], ['123 45 6789', '123 45 6789']],
    misses: ['000-12-3456', '666-12-3456', '912-34-5678', '123-00-4567', '123-45-0000', '123-45-67890', '123-45 6789', '123456789'],
  },
  ipv4: {
    hits: [['from 192.168.1.10:5432', '192.168.1.10'], ['0.0.0.0', '0.0.0.0'], ['255.255.255.255', '255.255.255.255']],
    misses: ['256.1.1.1', '1.2.3', '1.2.3.4.5', '10.0.0.256'],
  },
  ipv6: {
    hits: [['host 2001:db8::1 up', '2001:db8::1'], ['fe80::1%eth0', 'fe80::1%eth0'], ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
      ['2001:0db8:85a3:0000:0000:8a2e:0370:7334', '2001:0db8:85a3:0000:0000:8a2e:0370:7334']],
    misses: ['12:30:45', 'std::io', 'a :: b', '1:2:3', 'gggg::1'],
  },
  jwt: {
    hits: [[`Bearer ${JWT}`, JWT]],
    misses: ['eyJzzzzzzzz.eyJzzzzzzzz.abc', 'eyJhbGciOiJIUzI1NiJ9', 'header.payload.signature'],
  },
  aws_access_key: {
    hits: [['key=AKIAIOSFODNN7EXAMPLE;', 'AKIAIOSFODNN7EXAMPLE'], ['ASIAY34FZKBOKMUTVV7A', 'ASIAY34FZKBOKMUTVV7A']],
    misses: ['AKIA1234', 'XAKIAIOSFODNN7EXAMPLE', 'AKIAIOSFODNN7EXAMPLEX', 'akiaiosfodnn7example'],
  },
  pem_private_key: {
    hits: [[`key:\n${PEM}\nend`, PEM], ['-----BEGIN PRIVATE KEY-----\nMIIE (truncated', '-----BEGIN PRIVATE KEY-----\nMIIE (truncated']],
    misses: ['-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----', '-----BEGIN CERTIFICATE-----'],
  },
};

describe('built-in detectors', () => {
  for (const [name, { hits, misses }] of Object.entries(CASES) as [BuiltinDetectorName, (typeof CASES)[BuiltinDetectorName]][]) {
    describe(name, () => {
      it.each(hits)('finds %j', (value, expected) => {
        expect(found(name, value)).toEqual([expected]);
      });
      it.each(misses)('ignores %j', (value) => {
        expect(found(name, value)).toEqual([]);
      });
    });
  }
});

describe('check digits', () => {
  it('Luhn', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(luhnValid('79927398713')).toBe(true);
  });
  it('IBAN mod 97 and length', () => {
    expect(ibanValid('DE89370400440532013000')).toBe(true);
    expect(ibanValid('DE89370400440532013001')).toBe(false);
    expect(ibanValid('DE8937040044053201300')).toBe(false);
    expect(ibanValid('NO9386011117947')).toBe(true);
  });
});

describe('maskMatches', () => {
  const email = builtinDetector('email');
  const card = builtinDetector('credit_card');
  it('replaces every match and keeps the rest', () => {
    expect(maskMatches('a@x.com paid with 4111 1111 1111 1111, b@y.org', [email, card], () => '#'))
      .toBe('# paid with #, #');
  });
  it('returns the same string when nothing matched', () => {
    const clean = 'nothing to see here';
    expect(maskMatches(clean, [email, card], () => '#')).toBe(clean);
  });
  it('merges overlapping matches', () => {
    const jwtLike = customDetector('word', 'secret\\w*');
    const inner = customDetector('inner', 'cret');
    expect(maskMatches('a secretive b', [jwtLike, inner], () => '#')).toBe('a # b');
  });
  it('custom detectors honour flags', () => {
    const emp = customDetector('employee_id', 'EMP-\\d{6}', 'i');
    expect(maskMatches('emp-123456 and EMP-654321', [emp], (m) => `<${m.length}>`)).toBe('<10> and <10>');
  });
});
