import type { Session, Statement } from '../src';

export function statement(text: string, overrides: Partial<Statement> = {}): Statement {
  return {
    text, kind: 'select', command: 'select', fingerprint: `fp:${text}`, normalized: text,
    reads: [], writes: [], functions: [], risks: new Set(), lineage: { outputs: [], complete: true },
    ...overrides,
  };
}

export function session(overrides: Partial<Session> = {}): Session {
  return {
    id: 's1', protocol: 'postgres', listener: 'pg', database: 'app', clientAddress: '127.0.0.1:5555',
    startedAt: new Date(), clientParameters: { user: 'alice' }, tls: false, state: new Map(),
    identity: { subject: 'alice', groups: ['dev'], method: 'local', claims: {} },
    ...overrides,
  };
}
