import { Client } from 'pg';
import { silentLogger } from '@querygate/core';
import { describeWith, pgClientConfig } from '../../../test/services';
import { approvalDbUrl } from './pgUrl';
import type { ApprovalRequest } from '../src/ApprovalRequest';
import { PostgresApprovalStore } from '../src/store/PostgresApprovalStore';
import { castApproval, castDenial } from '../src/transitions';
import { context, coordinator, dba1, dba2, pendingRequest, statement, waitFor } from './helpers';

describeWith('postgres')('PostgresApprovalStore (two replicas on the harness PostgreSQL)', () => {
  const table = `approvals_${process.pid}_${Date.now() % 100000}`;
  const stores: PostgresApprovalStore[] = [];
  const make = async (pollIntervalMs = 60_000, channel = `${table}_ch`): Promise<PostgresApprovalStore> => {
    const s = new PostgresApprovalStore({ url: approvalDbUrl(), table, channel, pollIntervalMs, logger: silentLogger });
    await s.open();
    stores.push(s);
    return s;
  };
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    const c = new Client(pgClientConfig());
    await c.connect();
    await c.query(`DROP TABLE IF EXISTS ${table}`);
    await c.end();
  });

  it('stores, lists and refuses a second decision', async () => {
    const [a, b] = await Promise.all([make(), make()]);
    const one = pendingRequest();
    const two = pendingRequest({ createdAt: new Date(Date.now() + 1000).toISOString(), requester: { subject: 'dave', groups: [], method: 'oidc', issuer: 'https://i' } });
    await a.create(one);
    await b.create(two);
    expect(await b.get(one.id)).toEqual(one);
    expect((await a.list({})).map((r) => r.id).slice(0, 2)).toEqual([two.id, one.id]);
    expect((await a.list({ subject: 'dave' })).map((r) => r.id)).toEqual([two.id]);
    const [x, y] = await Promise.all([
      a.update(one.id, (r) => castApproval(r, dba1, {}, Date.now(), { retryGrantMs: 1 })),
      b.update(one.id, (r) => castDenial(r, dba2, 'no', Date.now())),
    ]);
    expect([x.ok, y.ok].sort()).toEqual([false, true]);
    const loser = x.ok ? y : x;
    expect(loser).toMatchObject({ ok: false, refusal: { status: 409, code: 'already_decided' } });
    expect(await a.update('ar-missing', (r) => r)).toMatchObject({ ok: false, refusal: { status: 404 } });
  });

  it('one replica decides, the other learns through LISTEN/NOTIFY', async () => {
    const [a, b] = await Promise.all([make(), make()]);
    const heard: ApprovalRequest[] = [];
    b.subscribe((r) => heard.push(r));
    const r = pendingRequest();
    await a.create(r);
    await waitFor(() => heard.find((h) => h.id === r.id && h.status === 'pending'));
    await a.update(r.id, (c) => castApproval(c, dba1, {}, Date.now(), { retryGrantMs: 1 }));
    const learned = await waitFor(() => heard.find((h) => h.id === r.id && h.status === 'approved'), 3_000);
    expect(learned.version).toBe(2);
    expect(heard.filter((h) => h.id === r.id)).toHaveLength(2);
  });

  it('falls back to polling the watched requests when no notification arrives', async () => {
    // Different channels: b never hears a's NOTIFY, only its poll finds the change.
    const a = await make(60_000, `${table}_a`);
    const b = await make(100, `${table}_b`);
    const heard: ApprovalRequest[] = [];
    b.subscribe((r) => heard.push(r));
    const r = pendingRequest();
    await a.create(r);
    const unwatch = b.watch(r.id);
    await a.update(r.id, (c) => castDenial(c, dba1, 'no', Date.now()));
    await waitFor(() => heard.find((h) => h.id === r.id && h.status === 'denied'), 3_000);
    unwatch();
  });

  it('a held session on replica A is released by an approval on replica B', async () => {
    // Replica ids of their own: at start a replica cancels held requests its id left pending.
    const a = await coordinator({}, await make(500), 'replica-a');
    const b = await coordinator({}, await make(500), 'replica-b');
    const hold = await a.coordinator.request(statement(), context(), { rule: 'r', message: 'm' });
    expect(hold.action).toBe('hold');
    const [pending] = await b.coordinator.list({ status: ['pending'], gateway: 'replica-a' });
    const t0 = Date.now();
    expect(await b.coordinator.approve(pending!.id, dba1, { reason: 'from b' })).toMatchObject({ ok: true });
    await expect((hold as { decision: Promise<unknown> }).decision).resolves.toEqual({ action: 'allow' });
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(b.audit.map((e) => e.event)).toEqual(['approval.decided']);
    expect(a.audit.map((e) => e.event)).toEqual(['approval.requested']);
    await a.coordinator.shutdown();
    await b.coordinator.shutdown();
  });
});
