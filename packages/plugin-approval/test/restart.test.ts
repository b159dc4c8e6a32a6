import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basic, makeSigner, startTestGateway } from './fixture';
import { identity, waitFor } from './helpers';
import { openSession, requestIdOf, run } from './session';

async function get(adminUrl: string, id: string): Promise<any> {
  const res = await fetch(`${adminUrl}/api/approvals/${id}`, { headers: { authorization: basic('bob') } });
  return res.json();
}

describe('gateway restart with the file store', () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'qg-approval-restart-')); });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a held request left pending is cancelled ("gateway restarted"); decisions and reject-and-retry requests survive', async () => {
    const signer = await makeSigner(dir);
    const first = await startTestGateway('{ approvers: { groups: [dba] } }', { dir, signer, id: 'gw-1' });
    const gs = await openSession(first, identity('carol', ['dev']));
    const held = run(gs, 'DROP TABLE a', 'fp-a');
    await waitFor(() => held.notices[0]);
    const heldId = requestIdOf(held.notices[0]);
    // A second session's request is approved before the restart.
    const gs2 = await openSession(first, identity('carol', ['dev']));
    const other = run(gs2, 'DROP TABLE b', 'fp-b');
    await waitFor(() => other.notices[0]);
    const otherId = requestIdOf(other.notices[0]);
    await fetch(`${first.adminUrl}/api/approvals/${otherId}/approve`, { method: 'POST', headers: { authorization: basic('alice'), 'content-type': 'application/json' }, body: JSON.stringify({ window: '1h' }) });
    await expect(other.verdict).resolves.toEqual({ action: 'allow' });

    // "Crash": the second process opens the same data dir while the first still holds heldId.
    const second = await startTestGateway('{ approvers: { groups: [dba] } }', { dir, signer, id: 'gw-1' });
    try {
      expect(await get(second.adminUrl, heldId)).toMatchObject({ status: 'cancelled', reason: 'gateway restarted', decidedBy: ['querygate'] });
      expect(await get(second.adminUrl, otherId)).toMatchObject({ status: 'approved', grant: { scope: 'window' } });
      expect(second.audit.events.find((e) => e.event === 'approval.decided')).toMatchObject({ approval: { requestId: heldId, decision: 'cancelled', reason: 'gateway restarted' } });
      // The window granted before the restart still lets the statement through.
      const again = await openSession(second, identity('carol', ['dev']));
      await expect(run(again, 'DROP TABLE b', 'fp-b').verdict).resolves.toEqual({ action: 'allow' });
      await again.end('client_closed');
    } finally {
      await second.stop();
      await first.stop();
    }
  });

  it('a reject-and-retry request stays decidable across a restart; the retry passes afterwards', async () => {
    const signer = await makeSigner(dir);
    const sub = join(dir, 'rr');
    const opts = '{ mode: reject-and-retry, approvers: { groups: [dba] } }';
    const first = await startTestGateway(opts, { dir: sub, signer, id: 'gw-rr' });
    const gs = await openSession(first, identity('ci-job', ['ci']));
    const refused = await run(gs, 'DROP TABLE c', 'fp-c').verdict;
    expect(refused).toMatchObject({ action: 'deny', error: { code: 'QG_APPROVAL_PENDING' } });
    const id = /request (ar-[a-z0-9]{12})/.exec(refused.action === 'deny' ? refused.error.message : '')![1]!;
    await gs.end('client_closed');
    await first.stop();

    const second = await startTestGateway(opts, { dir: sub, signer, id: 'gw-rr' });
    try {
      expect(await get(second.adminUrl, id)).toMatchObject({ status: 'pending', mode: 'reject-and-retry' });
      const res = await fetch(`${second.adminUrl}/api/approvals/${id}/approve`, { method: 'POST', headers: { authorization: basic('alice') } });
      expect(res.status).toBe(200);
      const retry = await openSession(second, identity('ci-job', ['ci']));
      await expect(run(retry, 'DROP TABLE c', 'fp-c').verdict).resolves.toEqual({ action: 'allow' });
      await retry.end('client_closed');
    } finally {
      await second.stop();
    }
  });
});
