import * as s from '../../src/codec/serializer';

const hex = (b: Buffer): string => b.toString('hex');

describe('serializer', () => {
  test('ReadyForQuery, BackendKeyData, AuthenticationOk, ParameterStatus', () => {
    expect(hex(s.readyForQuery(0x49))).toBe('5a0000000549');
    expect(hex(s.backendKeyData(1, -1))).toBe('4b0000000c00000001ffffffff');
    expect(hex(s.authenticationOk())).toBe('520000000800000000');
    expect(hex(s.parameterStatus('a', 'b'))).toBe('530000000861006200');
  });

  test('ErrorResponse fields in order', () => {
    expect(hex(s.errorResponse({ S: 'ERROR', C: '42501' }))).toBe('4500000013' + '534552524f5200' + '433432353031' + '00' + '00');
  });

  test('AuthenticationSASL lists the mechanisms', () => {
    expect(hex(s.authenticationSasl(['SCRAM-SHA-256']))).toBe('5200000017' + '0000000a' + '5343524' + '14d2d5348412d32353600' + '00');
  });

  test('DataRow re-framed with NULL', () => {
    expect(hex(s.dataRow([Buffer.from('abc'), null]))).toBe('44000000110002' + '00000003616263' + 'ffffffff');
  });

  test('frontend: startup, SSLRequest, CancelRequest, Describe, Sync, Query, password', () => {
    expect(hex(s.startupMessage({ user: 'u' }))).toBe('00000010' + '00030000' + '75736572007500' + '00');
    expect(hex(s.sslRequest())).toBe('0000000804d2162f');
    expect(hex(s.cancelRequest(7, 9))).toBe('0000001004d2162e0000000700000009');
    expect(hex(s.describe('P', ''))).toBe('44000000065000');
    expect(hex(s.sync())).toBe('5300000004');
    expect(hex(s.query('x'))).toBe('51000000067800');
    expect(hex(s.passwordMessage('pw'))).toBe('70000000077077' + '00');
  });
});
