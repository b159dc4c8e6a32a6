import { scramVerifier } from '@querygate/core';
import { ScramClientExchange } from '../../src/session/ScramClientExchange';
import { ScramServerExchange } from '../../src/session/ScramServerExchange';

// RFC 7677 section 3 test vector (user "user", password "pencil").
const SALT = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
const CLIENT_NONCE = 'rOprNGfwEbeRWgbNEkqO';
const SERVER_SUFFIX = '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
const CLIENT_FIRST = `n,,n=user,r=${CLIENT_NONCE}`;
const SERVER_FIRST = `r=${CLIENT_NONCE}${SERVER_SUFFIX},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`;
const CLIENT_FINAL = `c=biws,r=${CLIENT_NONCE}${SERVER_SUFFIX},p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=`;
const SERVER_FINAL = 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=';

describe('SCRAM-SHA-256', () => {
  test('server side follows the RFC 7677 vector', () => {
    const server = new ScramServerExchange(scramVerifier('pencil', SALT, 4096), SERVER_SUFFIX);
    expect(server.first(CLIENT_FIRST)).toBe(SERVER_FIRST);
    expect(server.final(CLIENT_FINAL)).toBe(SERVER_FINAL);
  });

  test('server side refuses a wrong proof, a changed nonce and channel binding', () => {
    const wrongPassword = new ScramServerExchange(scramVerifier('pen', SALT, 4096), SERVER_SUFFIX);
    wrongPassword.first(CLIENT_FIRST);
    expect(wrongPassword.final(CLIENT_FINAL)).toBeUndefined();
    const server = new ScramServerExchange(scramVerifier('pencil', SALT, 4096), SERVER_SUFFIX);
    server.first(CLIENT_FIRST);
    expect(server.final(CLIENT_FINAL.replace('k0,p=', 'k1,p='))).toBeUndefined();
    expect(new ScramServerExchange(scramVerifier('pencil', SALT, 4096)).first('p=tls-server-end-point,,n=,r=abc')).toBeUndefined();
    expect(new ScramServerExchange(scramVerifier('pencil', SALT, 4096)).first('garbage')).toBeUndefined();
  });

  test('client side follows the RFC 7677 vector', () => {
    const client = new ScramClientExchange('pencil', CLIENT_NONCE, 'user');
    expect(client.clientFirst()).toBe(CLIENT_FIRST);
    expect(client.clientFinal(SERVER_FIRST)).toBe(CLIENT_FINAL);
    expect(client.verifyServerFinal(SERVER_FINAL)).toBe(true);
    expect(client.verifyServerFinal('v=AAAA')).toBe(false);
  });

  test('client refuses a server nonce that does not extend its own', () => {
    const client = new ScramClientExchange('pencil', CLIENT_NONCE, 'user');
    client.clientFirst();
    expect(() => client.clientFinal('r=other,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096')).toThrow();
  });
});
