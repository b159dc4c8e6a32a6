import type { Deny, Hold } from '@querygate/core';
import { MemoryApprovalStore } from '../src/store/MemoryApprovalStore';
import { context, coordinator, dba1, dba2, identity, outsider, pendingRequest, session, statement, waitFor } from './helpers';

const reason = { rule: 'ddl-needs-approval', message: 'DROP TABLE is not allowed' };

function asHold(v: unknown): Hold {
  expect(v).toMatchObject({ action: 'hold' });
  return v as Hold;
}

describe('ApprovalCoordinator', () => {
  it('holds, sends a notice with the console link, and allows once approved', async () => {
    const { coordinator: c, audit } = await coordinator();
    const hold = asHold(await c.request(statement(), context(), reason));
    const [pending] = await c.list({ status: ['pending'] });
    expect(pending).toMatchObject({ requester: { subject: 'carol', groups: ['dev'] }, statement: { text: 'DROP TABLE orders', fingerprint: 'fp-drop-orders' }, rule: 'ddl-needs-approval', mode: 'hold' });
    expect(hold.notice).toBe(`approval required: request ${pending!.id} — approve at http://admin.example:8080/console/approvals#${pending!.id}`);
    expect(hold.rule).toBe('ddl-needs-approval');
    const result = await c.approve(pending!.id, dba1, { reason: 'ticket 42' });
    expect(result.ok).toBe(true);
    await expect(hold.decision).resolves.toEqual({ action: 'allow' });
    expect(audit.map((e) => e.event)).toEqual(['approval.requested', 'approval.decided']);
    expect(audit[1]).toMatchObject({ approval: { requestId: pending!.id, decision: 'approved', approver: 'alice', reason: 'ticket 42' } });
    await c.shutdown();
  });

  it('denies with the approver\'s reason', async () => {
    const { coordinator: c, audit } = await coordinator();
    const hold = asHold(await c.request(statement(), context(), reason));
    const [pending] = await c.list({ status: ['pending'] });
    await c.deny(pending!.id, dba2, 'not during business hours');
    const decided = (await hold.decision) as Deny;
    expect(decided.action).toBe('deny');
    expect(decided.error.code).toBe('QG_APPROVAL_DENIED');
    expect(decided.error.message).toContain('denied by bob: not during business hours');
    expect(decided.error.rule).toBe('ddl-needs-approval');
    expect(audit[1]).toMatchObject({ event: 'approval.decided', approval: { decision: 'denied', approver: 'bob' } });
    await c.shutdown();
  });

  it('expires after the timeout', async () => {
    const { coordinator: c, audit } = await coordinator({ timeoutMs: 150 });
    const hold = asHold(await c.request(statement(), context(), reason));
    const decided = (await hold.decision) as Deny;
    expect(decided.error.code).toBe('QG_APPROVAL_EXPIRED');
    expect(decided.error.message).toMatch(/expired: nobody decided within 150ms/);
    const [r] = await c.list({});
    expect(r).toMatchObject({ status: 'expired', decidedBy: ['querygate'] });
    expect(audit[1]).toMatchObject({ approval: { decision: 'expired' } });
    expect(await c.approve(r!.id, dba1, {})).toMatchObject({ ok: false, refusal: { status: 409 } });
    await c.shutdown();
  });

  it('cancels when the client goes away', async () => {
    const { coordinator: c, audit } = await coordinator();
    const hold = asHold(await c.request(statement(), context(), reason));
    hold.cancel?.('cancelled by the client');
    const [r] = await waitFor(async () => { const l = await c.list({ status: ['cancelled'] }); return l.length ? l : undefined; });
    expect(r).toMatchObject({ reason: 'cancelled by the client' });
    expect(audit[1]).toMatchObject({ event: 'approval.decided', approval: { decision: 'cancelled', reason: 'cancelled by the client' } });
    expect(await c.approve(r!.id, dba1, {})).toMatchObject({ ok: false, refusal: { status: 409, code: 'already_decided' } });
    await c.shutdown();
  });

  it('a window grant lets the same identity run the same fingerprint again, elsewhere not', async () => {
    const { coordinator: c } = await coordinator();
    const hold = asHold(await c.request(statement(), context(), reason));
    const [pending] = await c.list({ status: ['pending'] });
    await c.approve(pending!.id, dba1, { windowMs: 30 * 60_000 });
    await hold.decision;
    // A new session (a CI job's retry) with the same identity.
    await expect(c.request(statement('drop table  orders'), context(session()), reason)).resolves.toEqual({ action: 'allow' });
    // Another identity, another database, another fingerprint: new requests.
    asHold(await c.request(statement(), context(session({ identity: identity('dave') })), reason));
    asHold(await c.request(statement(), context(session({ database: 'other' })), reason));
    asHold(await c.request(statement('DROP TABLE users', 'fp-drop-users'), context(), reason));
    expect(await c.list({ status: ['pending'] })).toHaveLength(3);
    await c.shutdown();
  });

  it('clamps a window to maxWindow', async () => {
    const { coordinator: c } = await coordinator({ maxWindowMs: 60_000 });
    await c.request(statement(), context(), reason);
    const [pending] = await c.list({ status: ['pending'] });
    const r = await c.approve(pending!.id, dba1, { windowMs: 86_400_000 });
    expect(r.ok && Date.parse(r.request.grant!.until) - Date.parse(r.request.decidedAt!)).toBe(60_000);
    await c.shutdown();
  });

  it('reject-and-retry: answers at once with the request id, reuses it, and the retry after approval passes once', async () => {
    const { coordinator: c } = await coordinator({ mode: 'reject-and-retry' });
    const first = (await c.request(statement(), context(), reason)) as Deny;
    expect(first.action).toBe('deny');
    expect(first.error.code).toBe('QG_APPROVAL_PENDING');
    const [pending] = await c.list({ status: ['pending'] });
    expect(first.error.message).toContain(`request ${pending!.id} was created`);
    expect(first.error.message).toContain(`/console/approvals#${pending!.id}`);
    const again = (await c.request(statement(), context(session()), reason)) as Deny;
    expect(again.error.message).toContain(`request ${pending!.id} is waiting`);
    expect(await c.list({})).toHaveLength(1);

    await c.approve(pending!.id, dba1, {});
    await expect(c.request(statement(), context(session()), reason)).resolves.toEqual({ action: 'allow' });
    const used = await c.get(pending!.id);
    expect(used!.grant).toMatchObject({ scope: 'once' });
    expect(used!.grant!.consumedAt).toBeDefined();
    // One-shot: the next run asks again.
    expect(((await c.request(statement(), context(session()), reason)) as Deny).error.code).toBe('QG_APPROVAL_PENDING');
    expect(await c.list({ status: ['pending'] })).toHaveLength(1);
    await c.shutdown();
  });

  it('reject-and-retry with a window: retries pass until the window ends', async () => {
    const { coordinator: c } = await coordinator({ mode: 'reject-and-retry' });
    await c.request(statement(), context(), reason);
    const [pending] = await c.list({ status: ['pending'] });
    await c.approve(pending!.id, dba1, { windowMs: 60_000 });
    for (let i = 0; i < 3; i++) await expect(c.request(statement(), context(session()), reason)).resolves.toEqual({ action: 'allow' });
    await c.shutdown();
  });

  it('reject-and-retry requests expire through the sweep', async () => {
    const { coordinator: c, audit } = await coordinator({ mode: 'reject-and-retry', timeoutMs: 100, sweepIntervalMs: 50 });
    await c.request(statement(), context(), reason);
    await waitFor(async () => (await c.list({ status: ['expired'] })).length === 1 || undefined);
    expect(audit.filter((e) => e.event === 'approval.decided')).toHaveLength(1);
    await c.shutdown();
  });

  it('refuses self-approval and non-approvers', async () => {
    const { coordinator: c } = await coordinator();
    await c.request(statement(), context(session({ identity: identity('alice', ['dba']) })), reason);
    const [pending] = await c.list({ status: ['pending'] });
    expect(await c.approve(pending!.id, dba1, {})).toMatchObject({ ok: false, refusal: { status: 403, code: 'self_approval' } });
    expect(await c.approve(pending!.id, outsider, {})).toMatchObject({ ok: false, refusal: { status: 403, code: 'not_approver' } });
    expect(await c.deny(pending!.id, outsider, 'x')).toMatchObject({ ok: false, refusal: { status: 403 } });
    expect(await c.approve(pending!.id, dba2, {})).toMatchObject({ ok: true });
    await c.shutdown();
  });

  it('needs N distinct approvers', async () => {
    const { coordinator: c, audit } = await coordinator({ approvers: { groups: ['dba'], count: 2 } });
    const hold = asHold(await c.request(statement(), context(), reason));
    const [pending] = await c.list({ status: ['pending'] });
    expect(pending!.required).toBe(2);
    const one = await c.approve(pending!.id, dba1, {});
    expect(one).toMatchObject({ ok: true, request: { status: 'pending' } });
    expect(await c.approve(pending!.id, dba1, {})).toMatchObject({ ok: false, refusal: { status: 409, code: 'already_voted' } });
    let settled = false;
    void hold.decision.then(() => { settled = true; });
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false);
    await c.approve(pending!.id, dba2, {});
    await expect(hold.decision).resolves.toEqual({ action: 'allow' });
    expect(audit.filter((e) => e.event === 'approval.decided')).toEqual([expect.objectContaining({ approval: expect.objectContaining({ approver: 'alice, bob' }) })]);
    await c.shutdown();
  });

  it('at start, cancels held requests this gateway left pending and keeps reject-and-retry ones', async () => {
    const store = new MemoryApprovalStore();
    const held = pendingRequest({ gateway: 'gw-a', mode: 'hold' });
    const retry = pendingRequest({ gateway: 'gw-a', mode: 'reject-and-retry' });
    const other = pendingRequest({ gateway: 'gw-b', mode: 'hold' });
    for (const r of [held, retry, other]) await store.create(r);
    const { coordinator: c, audit } = await coordinator({}, store, 'gw-a');
    expect(await c.get(held.id)).toMatchObject({ status: 'cancelled', reason: 'gateway restarted' });
    expect(await c.get(retry.id)).toMatchObject({ status: 'pending' });
    expect(await c.get(other.id)).toMatchObject({ status: 'pending' });
    expect(audit).toEqual([expect.objectContaining({ event: 'approval.decided', approval: expect.objectContaining({ requestId: held.id, decision: 'cancelled' }) })]);
    await c.shutdown();
  });

  it('at shutdown, cancels requests still waiting', async () => {
    const { coordinator: c } = await coordinator();
    const hold = asHold(await c.request(statement(), context(), reason));
    await c.shutdown();
    expect(((await hold.decision) as Deny).action).toBe('deny');
    expect(await c.list({ status: ['cancelled'] })).toHaveLength(1);
  });

  it('keeps the parameters of a prepared statement for the approver', async () => {
    const { coordinator: c } = await coordinator();
    const ctx = { ...context(), parameters: ['42', null], via: 'execute' as const };
    await c.request(statement('DELETE FROM orders WHERE id = $1'), ctx, reason);
    const [r] = await c.list({});
    expect(r!.statement.parameters).toEqual(['42', null]);
    await c.shutdown();
  });
});
