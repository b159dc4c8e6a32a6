import { castApproval, castDenial, close, consumeGrant, grantCovers, isRefusal } from '../src/transitions';
import { dba1, dba2, pendingRequest } from './helpers';

const policy = { retryGrantMs: 3_600_000 };
const key = { subject: 'carol', fingerprint: 'fp-drop-orders', listener: 'pg', database: 'app' };

describe('transitions', () => {
  const now = Date.now();

  it('approves with one vote when one is required; no grant in hold mode without a window', () => {
    const next = castApproval(pendingRequest(), dba1, { reason: 'ok' }, now, policy);
    if (isRefusal(next)) throw new Error(next.message);
    expect(next.status).toBe('approved');
    expect(next.version).toBe(2);
    expect(next.decidedBy).toEqual(['alice']);
    expect(next.reason).toBe('ok');
    expect(next.grant).toBeUndefined();
  });

  it('refuses self-approval with 403', () => {
    const r = castApproval(pendingRequest(), { subject: 'carol', groups: ['dba'], method: 'basic' }, {}, now, policy);
    expect(r).toMatchObject({ refused: true, status: 403, code: 'self_approval' });
  });

  it('needs N distinct approvers and takes the smallest window', () => {
    const first = castApproval(pendingRequest({ required: 2 }), dba1, { windowMs: 3_600_000 }, now, policy);
    if (isRefusal(first)) throw new Error(first.message);
    expect(first.status).toBe('pending');
    expect(castApproval(first, dba1, {}, now, policy)).toMatchObject({ status: 409, code: 'already_voted' });
    const second = castApproval(first, dba2, { windowMs: 1_800_000 }, now, policy);
    if (isRefusal(second)) throw new Error(second.message);
    expect(second.status).toBe('approved');
    expect(second.decidedBy).toEqual(['alice', 'bob']);
    expect(second.grant).toEqual({ scope: 'window', until: new Date(now + 1_800_000).toISOString() });
  });

  it('a vote without a window makes the grant this statement only', () => {
    const first = castApproval(pendingRequest({ required: 2 }), dba1, { windowMs: 3_600_000 }, now, policy);
    if (isRefusal(first)) throw new Error(first.message);
    const second = castApproval(first, dba2, {}, now, policy);
    expect(isRefusal(second) ? undefined : second.grant).toBeUndefined();
  });

  it('reject-and-retry approval without a window becomes a one-shot grant, consumed once', () => {
    const approved = castApproval(pendingRequest({ mode: 'reject-and-retry' }), dba1, {}, now, policy);
    if (isRefusal(approved)) throw new Error(approved.message);
    expect(approved.grant).toEqual({ scope: 'once', until: new Date(now + 3_600_000).toISOString() });
    expect(grantCovers(approved, key, now)).toBe(true);
    expect(grantCovers(approved, { ...key, subject: 'dave' }, now)).toBe(false);
    expect(grantCovers(approved, { ...key, database: 'other' }, now)).toBe(false);
    expect(grantCovers(approved, key, now + 3_600_001)).toBe(false);
    const used = consumeGrant(approved, key, now + 1);
    if (isRefusal(used)) throw new Error(used.message);
    expect(grantCovers(used, key, now + 2)).toBe(false);
    expect(consumeGrant(used, key, now + 2)).toMatchObject({ status: 409, code: 'grant_used' });
  });

  it('decided and expired requests cannot be decided again', () => {
    const denied = castDenial(pendingRequest(), dba1, 'no', now);
    if (isRefusal(denied)) throw new Error(denied.message);
    expect(denied).toMatchObject({ status: 'denied', reason: 'no', decidedBy: ['alice'] });
    expect(castApproval(denied, dba2, {}, now, policy)).toMatchObject({ status: 409, code: 'already_decided' });
    expect(close(denied, 'expired', 'late', now)).toMatchObject({ status: 409 });
    const overdue = pendingRequest({ expiresAt: new Date(now - 1).toISOString() });
    expect(castApproval(overdue, dba1, {}, now, policy)).toMatchObject({ status: 409, code: 'expired' });
    expect(close(overdue, 'expired', 'timeout', now)).toMatchObject({ status: 'expired', decidedBy: ['querygate'] });
  });
});
