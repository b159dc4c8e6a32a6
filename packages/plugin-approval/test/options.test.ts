import { PluginOptionsError, Secret } from '@querygate/core';
import { parseApprovalOptions } from '../src/ApprovalOptions';

const users = [{ name: 'alice', password: new Secret('pw', 'env:ALICE'), groups: ['dba'] }];

function problem(raw: unknown): { path: readonly (string | number)[]; message: string } {
  try {
    parseApprovalOptions(raw);
  } catch (err) {
    if (err instanceof PluginOptionsError) return { path: err.path, message: err.message };
    throw err;
  }
  throw new Error('expected a PluginOptionsError');
}

describe('parseApprovalOptions', () => {
  it('fills defaults', () => {
    const o = parseApprovalOptions({ approvers: { groups: ['dba'] }, auth: { users } });
    expect(o).toMatchObject({ mode: 'hold', timeoutMs: 900_000, retryGrantMs: 3_600_000, approvers: { groups: ['dba'], count: 1 }, store: { type: 'file' }, webhooks: [] });
  });

  it('reads every option', () => {
    const o = parseApprovalOptions({
      mode: 'reject-and-retry', timeout: '2m', maxWindow: '4h', retryGrant: '10m', sweepInterval: '1s',
      approvers: { groups: ['dba', 'sre'], count: 2 },
      auth: { users, jwt: { issuer: 'https://idp.example', audience: 'querygate', jwks: { url: 'https://idp.example/jwks' }, groupsFrom: ['team'] } },
      store: { type: 'postgres', url: new Secret('postgresql://x', 'env:DB'), table: 'ops.approvals', pollInterval: '500ms' },
      webhooks: [{ url: 'https://hooks.example/x', format: 'slack', attempts: 3, backoff: '100ms' }],
    });
    expect(o.mode).toBe('reject-and-retry');
    expect(o.timeoutMs).toBe(120_000);
    expect(o.auth.jwt[0]).toMatchObject({ issuer: 'https://idp.example', subjectClaim: 'sub', groupsClaim: 'groups', groupsFrom: ['team'] });
    expect(o.store).toMatchObject({ type: 'postgres', table: 'ops.approvals', channel: 'querygate_approvals', pollIntervalMs: 500 });
    expect(o.webhooks[0]).toMatchObject({ format: 'slack', attempts: 3, backoffMs: 100, events: ['requested', 'decided'] });
  });

  it.each([
    [{ approvers: { groups: [] }, auth: { users } }, ['approvers', 'groups']],
    [{ approvers: { groups: ['dba'] } }, ['auth']],
    [{ approvers: { groups: ['dba'] }, auth: { users: [{ name: 'a', password: 'literal', groups: [] }] } }, ['auth', 'users', 0, 'password']],
    [{ approvers: { groups: ['dba'] }, auth: { users }, timeout: 'soon' }, ['timeout']],
    [{ approvers: { groups: ['dba'] }, auth: { users }, mode: 'wait' }, ['mode']],
    [{ approvers: { groups: ['dba'], count: 0 }, auth: { users } }, ['approvers', 'count']],
    [{ approvers: { groups: ['dba'] }, auth: { users }, store: { type: 'postgres', url: 'postgresql://x', table: 'x; drop' } }, ['store', 'table']],
    [{ approvers: { groups: ['dba'] }, auth: { users }, store: { type: 'file', url: 'x' } }, ['store', 'url']],
    [{ approvers: { groups: ['dba'] }, auth: { users }, webhooks: [{ url: 'ftp://x' }] }, ['webhooks', 0, 'url']],
    [{ approvers: { groups: ['dba'] }, auth: { users }, colour: 'red' }, ['colour']],
    [{ approvers: { groups: ['dba'] }, auth: { jwt: { issuer: 'https://i', audience: 'a', jwks: {} } } }, ['auth', 'jwt', 'jwks']],
  ])('rejects %j at its key path', (raw, path) => {
    expect(problem(raw).path).toEqual(path);
  });
});
